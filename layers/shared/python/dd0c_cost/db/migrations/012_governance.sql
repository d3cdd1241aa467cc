-- Governance: each tenant (and optionally each rule) is in one mode, shadow | audit | enforce;
-- a panic flag per tenant and one global; and an append-only audit log.
--
-- The audit log IS the governance state: the mode (or panic) in force at an event time is the
-- newest log entry of that kind at or before it ("at" is event time: the tenant's clock when the
-- entry was made), so a replay decides exactly as the live system did. Nobody can rewrite that
-- history: the runtime and operator roles may only INSERT and SELECT, the owner has UPDATE,
-- DELETE and TRUNCATE revoked, and a trigger refuses them for every role that still tries.

CREATE TABLE dd0c.audit_log (
    id           bigserial PRIMARY KEY,
    tenant_id    uuid,                          -- NULL: a global entry (operator only), e.g. global panic
    at           timestamptz NOT NULL,          -- event time the entry takes effect (the tenant's clock)
    recorded_at  timestamptz NOT NULL DEFAULT now(),   -- wall time, for people reading the log
    actor        text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    source       text NOT NULL CHECK (source IN ('api', 'console', 'slack', 'cli', 'system')),
    action       text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$'),
    subject      text NOT NULL DEFAULT 'tenant' CHECK (length(subject) BETWEEN 1 AND 300),
    state        text CHECK (length(state) <= 100),  -- the new value (mode, 'on'/'off', status ...)
    reason       text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    detail       jsonb NOT NULL DEFAULT '{}',
    -- governance entries carry a state the decision functions understand
    CONSTRAINT audit_log_mode_state CHECK (action <> 'governance.mode' OR state IN ('shadow', 'audit', 'enforce', 'inherit')),
    CONSTRAINT audit_log_panic_state CHECK (action <> 'governance.panic' OR state IN ('on', 'off')),
    CONSTRAINT audit_log_global_panic_only CHECK (tenant_id IS NOT NULL OR (action = 'governance.panic' AND subject = 'global'))
);
-- "what is in force at t" for one subject: one index probe per decision
CREATE INDEX audit_log_governance ON dd0c.audit_log (tenant_id, subject, action, at DESC, id DESC)
    WHERE action IN ('governance.mode', 'governance.panic');
CREATE INDEX audit_log_tenant_recent ON dd0c.audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_subject ON dd0c.audit_log (tenant_id, subject, id DESC);

SELECT dd0c.protect_tenant_table('dd0c.audit_log');
-- Every tenant sees the global entries (an operator's global panic explains a silent channel).
CREATE POLICY global_entries ON dd0c.audit_log FOR SELECT TO dd0c_app USING (tenant_id IS NULL);

CREATE FUNCTION dd0c.audit_log_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dd0c.audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON dd0c.audit_log
    FOR EACH ROW EXECUTE FUNCTION dd0c.audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON dd0c.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION dd0c.audit_log_is_append_only();

REVOKE ALL ON dd0c.audit_log FROM PUBLIC;
DO $$
BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON dd0c.audit_log FROM %I', current_user);
END
$$;
GRANT SELECT, INSERT ON dd0c.audit_log TO dd0c_app, dd0c_operator;
GRANT USAGE ON SEQUENCE dd0c.audit_log_id_seq TO dd0c_app, dd0c_operator;

-- Why an anomaly's notification was not posted: 'shadow' (the tenant or rule watched silently) or
-- 'panic' (halted, including notifications already queued). NULL: posted, or not yet decided.
ALTER TABLE dd0c.anomalies
    ADD COLUMN notify_withheld text CHECK (notify_withheld IN ('shadow', 'panic'));

-- Per-tenant knobs of automatic promotion and demotion (NULL = the default).
CREATE TABLE dd0c.governance_settings (
    tenant_id               uuid PRIMARY KEY REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    auto_promote            boolean,
    promote_after_days      double precision CHECK (promote_after_days >= 1 AND promote_after_days <= 365),
    promote_max_mode        text CHECK (promote_max_mode IN ('shadow', 'audit', 'enforce')),
    min_reviewed            integer CHECK (min_reviewed >= 1 AND min_reviewed <= 100000),
    fp_rate_ceiling         double precision CHECK (fp_rate_ceiling >= 0 AND fp_rate_ceiling <= 1),
    auto_demote             boolean,
    demote_window_days      double precision CHECK (demote_window_days >= 1 AND demote_window_days <= 90),
    demote_min_reviewed     integer CHECK (demote_min_reviewed >= 1 AND demote_min_reviewed <= 100000),
    demote_fp_rate          double precision CHECK (demote_fp_rate >= 0 AND demote_fp_rate <= 1),
    updated_by              text,
    updated_at              timestamptz NOT NULL DEFAULT now()
);
SELECT dd0c.protect_tenant_table('dd0c.governance_settings');
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.governance_settings TO dd0c_operator;
GRANT SELECT, INSERT, UPDATE ON dd0c.governance_settings TO dd0c_app;
