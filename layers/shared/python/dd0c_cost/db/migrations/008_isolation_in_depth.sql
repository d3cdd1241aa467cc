-- Isolation in depth (issue 7). Row-level security decided what a runtime session sees, but some
-- doors did not check who walked through them:
--   * dd0c.scoring_load / dd0c.scoring_save set the tenant themselves from their argument, so any
--     dd0c_app session could read and write another tenant's baselines given its id. They now
--     act only for the tenant the transaction set (dd0c.current_tenant()), and refuse otherwise.
--   * dd0c.tenant_for_account turns an account id into a tenant id across tenants. Only the
--     normaliser needs it: it now belongs to dd0c_normalizer (dd0c_app plus that one door), a role
--     the API's login is not a member of.
--   * scoring_feedback referenced anomalies(id) alone; a foreign key ignores RLS, so a tenant could
--     point a row at another tenant's anomaly (and block the victim's own feedback). Foreign keys
--     between tenant tables now include tenant_id.
-- And Slack interactions are acted on once: dd0c.slack_requests remembers each signed request.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dd0c_normalizer') THEN
        CREATE ROLE dd0c_normalizer NOLOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT pg_has_role('dd0c_normalizer', 'dd0c_app', 'MEMBER') THEN
        GRANT dd0c_app TO dd0c_normalizer;
    END IF;
    IF NOT pg_has_role(current_user, 'dd0c_normalizer', 'MEMBER') THEN
        EXECUTE format('GRANT dd0c_normalizer TO %I', current_user);
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION dd0c.tenant_for_account(text) FROM dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.tenant_for_account(text) TO dd0c_normalizer;

CREATE OR REPLACE FUNCTION dd0c.scoring_load(p_tenant uuid, p json) RETURNS text
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_keys text[] := ARRAY(SELECT json_array_elements_text(p->'series'));
    v_events text[] := ARRAY(SELECT json_array_elements_text(p->'events'));
    v_accounts text[] := ARRAY(SELECT json_array_elements_text(p->'accounts'));
    v_types text[] := ARRAY(SELECT json_array_elements_text(p->'types'));
    v_series json;
    v_claimed json;
    v_tenant json;
    v_settings json;
    v_rules json;
    v_novelty json;
BEGIN
    IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM dd0c.current_tenant() THEN
        RAISE EXCEPTION '%: tenant % is not the tenant this transaction set', 'scoring_load', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- New series and a new tenant get their rows first (rarely: most batches find them all).
    IF (SELECT count(*) FROM dd0c.spend_baselines WHERE tenant_id = p_tenant AND series_key = ANY(v_keys))
       < cardinality(v_keys) THEN
        INSERT INTO dd0c.spend_baselines (tenant_id, series_key)
            SELECT p_tenant, k FROM unnest(v_keys) AS k ORDER BY k ON CONFLICT DO NOTHING;
    END IF;
    SELECT coalesce(json_agg(json_build_object(
               'k', s.series_key, 'n', s.n, 'mean', s.mean, 'm2', s.m2, 'w', s.weight,
               'level', s.level_usd_per_hour, 'first', extract(epoch FROM s.first_event_at),
               'last', extract(epoch FROM s.last_event_at), 'state', s.state)), '[]')
        INTO v_series
        FROM (SELECT * FROM dd0c.spend_baselines
              WHERE tenant_id = p_tenant AND series_key = ANY(v_keys) ORDER BY series_key FOR UPDATE) s;
    SELECT coalesce(json_agg(c.event_id), '[]') INTO v_claimed
        FROM (SELECT event_id FROM dd0c.cost_events
              WHERE tenant_id = p_tenant AND event_id = ANY(v_events) AND scored_at IS NULL FOR UPDATE) c;
    IF NOT EXISTS (SELECT 1 FROM dd0c.tenant_baselines WHERE tenant_id = p_tenant) THEN
        INSERT INTO dd0c.tenant_baselines (tenant_id) VALUES (p_tenant) ON CONFLICT DO NOTHING;
    END IF;
    SELECT json_build_object('n', t.n, 'mean', t.mean, 'm2', t.m2, 'w', t.weight, 'level', t.level_usd_per_hour,
                             'first', extract(epoch FROM t.first_event_at), 'last', extract(epoch FROM t.last_event_at),
                             'state', t.state)
        INTO v_tenant
        FROM dd0c.tenant_baselines t WHERE t.tenant_id = p_tenant FOR UPDATE;
    SELECT row_to_json(s) INTO v_settings
        FROM (SELECT alert_floor_usd_per_hour, score_threshold, cold_start_days, cold_start_usd_per_hour,
                     cold_start_resources, burst_gap_s
              FROM dd0c.tenant_settings WHERE tenant_id = p_tenant) s;
    SELECT coalesce(json_agg(r), '[]') INTO v_rules
        FROM (SELECT anomaly_id, status, account_id, resource_type, actor_key, region, families, hourly_usd,
                     extract(epoch FROM event_time) AS t, created_by
              FROM dd0c.scoring_feedback
              WHERE tenant_id = p_tenant AND account_id = ANY(v_accounts) AND resource_type = ANY(v_types)
              ORDER BY event_time DESC LIMIT 200) r;
    -- exactly the (dimension, key) pairs the batch can look up, and every price tier: key lookups
    SELECT coalesce(json_agg(json_build_array(n.dimension, n.key, extract(epoch FROM n.last_seen_at),
                                              n.max_usd_per_hour)), '[]')
        INTO v_novelty
        FROM (SELECT d.key AS dim, json_array_elements_text(d.value) AS k FROM json_each(p->'novelty') d
              UNION ALL
              SELECT 'tier', t::text FROM generate_series(0, 9) AS t) q
        JOIN dd0c.tenant_novelty n ON n.tenant_id = p_tenant AND n.dimension = q.dim AND n.key = q.k;
    RETURN json_build_object('series', v_series, 'claimed', v_claimed, 'tenant', v_tenant,
                             'settings', v_settings, 'rules', v_rules, 'novelty', v_novelty)::text;
END
$$;


CREATE OR REPLACE FUNCTION dd0c.scoring_save(p_tenant uuid, p jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_keys text[] := ARRAY(SELECT jsonb_array_elements(p->'series')->>'k');
    v_events text[] := ARRAY(SELECT jsonb_array_elements(p->'events')->>'e');
BEGIN
    IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM dd0c.current_tenant() THEN
        RAISE EXCEPTION '%: tenant % is not the tenant this transaction set', 'scoring_save', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- (the ANY() predicates make PostgreSQL find the rows by key, not read all of the tenant's rows)
    UPDATE dd0c.spend_baselines b
        SET n = v.n, mean = v.mean, m2 = v.m2, weight = v.w, level_usd_per_hour = v.level,
            first_event_at = to_timestamp(v.first), last_event_at = to_timestamp(v.last), state = v.state
        FROM jsonb_to_recordset(p->'series')
             AS v(k text, n bigint, mean float8, m2 float8, w float8, level float8, first float8, last float8, state jsonb)
        WHERE b.tenant_id = p_tenant AND b.series_key = ANY(v_keys) AND b.series_key = v.k;
    UPDATE dd0c.tenant_baselines t
        SET n = v.n, mean = v.mean, m2 = v.m2, weight = v.w, level_usd_per_hour = v.level,
            first_event_at = to_timestamp(v.first), last_event_at = to_timestamp(v.last), state = v.state
        FROM jsonb_to_record(p->'tenant')
             AS v(n bigint, mean float8, m2 float8, w float8, level float8, first float8, last float8, state jsonb)
        WHERE t.tenant_id = p_tenant;
    IF jsonb_array_length(p->'novelty') > 0 THEN
        INSERT INTO dd0c.tenant_novelty AS n (tenant_id, dimension, key, first_seen_at, last_seen_at, max_usd_per_hour)
            SELECT p_tenant, v.d, v.k, to_timestamp(v.f), to_timestamp(v.t), v.u
            FROM jsonb_to_recordset(p->'novelty') AS v(d text, k text, f float8, t float8, u float8)
            ON CONFLICT (tenant_id, dimension, key) DO UPDATE SET
                last_seen_at = GREATEST(n.last_seen_at, EXCLUDED.last_seen_at),
                max_usd_per_hour = GREATEST(n.max_usd_per_hour, EXCLUDED.max_usd_per_hour);
    END IF;
    UPDATE dd0c.cost_events c SET scored_at = now(), score = v.s, score_components = v.c
        FROM jsonb_to_recordset(p->'events') AS v(e text, s float8, c jsonb)
        WHERE c.tenant_id = p_tenant AND c.event_id = ANY(v_events) AND c.event_id = v.e;
END
$$;


-- Foreign keys between tenant tables carry tenant_id. Rows that already point across tenants
-- (only a tenant attacking another could have made them) are removed first, as the operator role
-- (its policy sees every tenant; the owner does not, under FORCE ROW LEVEL SECURITY).
ALTER TABLE dd0c.anomalies ADD CONSTRAINT anomalies_tenant_id_id UNIQUE (tenant_id, id);
SET LOCAL ROLE dd0c_operator;
DELETE FROM dd0c.scoring_feedback f
 WHERE NOT EXISTS (SELECT 1 FROM dd0c.anomalies a WHERE a.id = f.anomaly_id AND a.tenant_id = f.tenant_id);
RESET ROLE;
ALTER TABLE dd0c.scoring_feedback DROP CONSTRAINT scoring_feedback_anomaly_id_fkey;
ALTER TABLE dd0c.scoring_feedback ADD CONSTRAINT scoring_feedback_anomaly_fkey
    FOREIGN KEY (tenant_id, anomaly_id) REFERENCES dd0c.anomalies (tenant_id, id) ON DELETE CASCADE;

-- Signed Slack interactions already acted on (key: digest of timestamp and signature). Slack
-- refuses timestamps older than 5 minutes, so rows older than an hour are pruned as new ones come.
CREATE TABLE dd0c.slack_requests (
    tenant_id        uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    request_key      text NOT NULL CHECK (length(request_key) = 64),
    slack_timestamp  bigint NOT NULL,
    seen_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, request_key)
);
CREATE INDEX slack_requests_seen ON dd0c.slack_requests (tenant_id, seen_at);
SELECT dd0c.protect_tenant_table('dd0c.slack_requests');
GRANT SELECT, DELETE ON dd0c.slack_requests TO dd0c_operator;
GRANT SELECT, INSERT, DELETE ON dd0c.slack_requests TO dd0c_app;
