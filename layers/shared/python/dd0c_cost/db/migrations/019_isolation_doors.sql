-- Isolation in depth, continued (issue 7; migration 008 did the first doors). Later migrations
-- added cross-tenant doors that any dd0c_app session could walk through, and foreign keys between
-- tenant tables without tenant_id (a foreign key ignores RLS):
--   * dd0c.zombie_scan_targets (005) lists every tenant's accounts and regions: only the zombie
--     fan-out needs it. It now belongs to dd0c_zombie_fanout (dd0c_app plus that door).
--   * dd0c.usage_poll_targets (016) lists every tenant's polled accounts: only the usage fan-out
--     needs it: dd0c_usage_fanout.
--   * dd0c.disable_slack_workspace (010) disables any tenant's Slack installation given a team id:
--     only Slack's signed events (app_uninstalled, tokens_revoked) need it, and they now reach a
--     function of their own, slack_events: dd0c_slack_events.
--   * dd0c.all_tenant_ids (015) lists every tenant id: only the daily digest's schedule needs it:
--     dd0c_digest.
-- Each role's only member in AWS is its function's own login (topology.DATABASE_ROLES; the migrate
-- function creates the logins). zombie_finding_history, explanations and console_sessions now
-- reference their parents with tenant_id.

DO $$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['dd0c_zombie_fanout', 'dd0c_usage_fanout', 'dd0c_slack_events', 'dd0c_digest'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_role) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE', v_role);
        END IF;
        IF NOT pg_has_role(v_role, 'dd0c_app', 'MEMBER') THEN
            EXECUTE format('GRANT dd0c_app TO %I', v_role);
        END IF;
        IF NOT pg_has_role(current_user, v_role, 'MEMBER') THEN
            EXECUTE format('GRANT %I TO %I', v_role, current_user);
        END IF;
    END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION dd0c.zombie_scan_targets() FROM dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.zombie_scan_targets() TO dd0c_zombie_fanout;
REVOKE EXECUTE ON FUNCTION dd0c.usage_poll_targets() FROM dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.usage_poll_targets() TO dd0c_usage_fanout;
REVOKE EXECUTE ON FUNCTION dd0c.disable_slack_workspace(text, text, text, text[]) FROM dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.disable_slack_workspace(text, text, text, text[]) TO dd0c_slack_events;
REVOKE EXECUTE ON FUNCTION dd0c.all_tenant_ids() FROM dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.all_tenant_ids() TO dd0c_digest;

-- Foreign keys with tenant_id. Rows that already point across tenants (only a tenant attacking
-- another, or a bug, could have made them) are removed first, as the operator role (its policy
-- sees every tenant; the owner does not, under FORCE ROW LEVEL SECURITY).
ALTER TABLE dd0c.zombie_findings ADD CONSTRAINT zombie_findings_tenant_id_id UNIQUE (tenant_id, id);
ALTER TABLE dd0c.api_keys ADD CONSTRAINT api_keys_tenant_id_id UNIQUE (tenant_id, id);
SET LOCAL ROLE dd0c_operator;
DELETE FROM dd0c.zombie_finding_history h
 WHERE NOT EXISTS (SELECT 1 FROM dd0c.zombie_findings f WHERE f.id = h.finding_id AND f.tenant_id = h.tenant_id);
DELETE FROM dd0c.explanations e
 WHERE NOT EXISTS (SELECT 1 FROM dd0c.anomalies a WHERE a.id = e.anomaly_id AND a.tenant_id = e.tenant_id);
DELETE FROM dd0c.console_sessions s
 WHERE NOT EXISTS (SELECT 1 FROM dd0c.api_keys k WHERE k.id = s.key_id AND k.tenant_id = s.tenant_id);
RESET ROLE;
ALTER TABLE dd0c.zombie_finding_history DROP CONSTRAINT zombie_finding_history_finding_id_fkey;
ALTER TABLE dd0c.zombie_finding_history ADD CONSTRAINT zombie_finding_history_finding_fkey
    FOREIGN KEY (tenant_id, finding_id) REFERENCES dd0c.zombie_findings (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE dd0c.explanations DROP CONSTRAINT explanations_anomaly_id_fkey;
ALTER TABLE dd0c.explanations ADD CONSTRAINT explanations_anomaly_fkey
    FOREIGN KEY (tenant_id, anomaly_id) REFERENCES dd0c.anomalies (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE dd0c.console_sessions DROP CONSTRAINT console_sessions_key_id_fkey;
ALTER TABLE dd0c.console_sessions ADD CONSTRAINT console_sessions_key_fkey
    FOREIGN KEY (tenant_id, key_id) REFERENCES dd0c.api_keys (tenant_id, id) ON DELETE CASCADE;
