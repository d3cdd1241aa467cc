-- Composite anomaly scorer: series level and weight beside the Welford columns, the tenant-wide
-- baseline and novelty sets, per-tenant alert settings, feedback rules, and the score of every
-- cost event.
-- Every new table: RLS enabled and FORCEd, tenant_isolation + operator_access, grants to dd0c_app.

-- Series (tenant, account:resource_type): n/mean/m2 are the time-weighted Welford statistics of the
-- series' spend-rate level; weight is their total (decayed) weight in hours; state holds the compact
-- JSON the components need (seasonal profile, open bursts, burst statistics), version 2.
ALTER TABLE dd0c.spend_baselines
    ADD COLUMN weight              double precision NOT NULL DEFAULT 0 CHECK (weight >= 0),
    ADD COLUMN level_usd_per_hour  double precision NOT NULL DEFAULT 0 CHECK (level_usd_per_hour >= 0);

-- The state is rewritten on every scoring transaction: keep it in the row, compressed, rather than
-- in a TOAST table (a few KB for a busy series).
ALTER TABLE dd0c.spend_baselines ALTER COLUMN state SET STORAGE MAIN;

-- The tenant's total spend-rate level and its statistics (state: small JSON).
CREATE TABLE dd0c.tenant_baselines (
    tenant_id           uuid PRIMARY KEY REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    n                   bigint NOT NULL DEFAULT 0 CHECK (n >= 0),
    mean                double precision NOT NULL DEFAULT 0,
    m2                  double precision NOT NULL DEFAULT 0 CHECK (m2 >= 0),
    weight              double precision NOT NULL DEFAULT 0 CHECK (weight >= 0),
    level_usd_per_hour  double precision NOT NULL DEFAULT 0 CHECK (level_usd_per_hour >= 0),
    first_event_at      timestamptz,
    last_event_at       timestamptz,
    state               jsonb NOT NULL DEFAULT '{}'
);

-- What a tenant has seen, for novelty: regions, instance families, services, principals, price tiers.
CREATE TABLE dd0c.tenant_novelty (
    tenant_id         uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    dimension         text NOT NULL CHECK (dimension IN ('region', 'family', 'service', 'principal', 'tier')),
    key               text NOT NULL,
    first_seen_at     timestamptz NOT NULL,     -- event time
    last_seen_at      timestamptz NOT NULL,     -- event time, to the day
    max_usd_per_hour  double precision NOT NULL DEFAULT 0 CHECK (max_usd_per_hour >= 0),  -- largest burst with it
    PRIMARY KEY (tenant_id, dimension, key)
);

-- Per-tenant overrides of the alert gate and cold-start rules; NULL = the default.
CREATE TABLE dd0c.tenant_settings (
    tenant_id                 uuid PRIMARY KEY REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    alert_floor_usd_per_hour  double precision CHECK (alert_floor_usd_per_hour >= 0),
    score_threshold           double precision CHECK (score_threshold > 0 AND score_threshold <= 1),
    cold_start_days           double precision CHECK (cold_start_days >= 0 AND cold_start_days <= 90),
    cold_start_usd_per_hour   double precision CHECK (cold_start_usd_per_hour >= 0),
    cold_start_resources      double precision CHECK (cold_start_resources >= 0),
    burst_gap_s               double precision CHECK (burst_gap_s > 0 AND burst_gap_s <= 21600),
    updated_by                text,
    updated_at                timestamptz NOT NULL DEFAULT now()
);

-- "Expected" / "false positive" feedback: one rule per anomaly, matched by the scorer.
CREATE TABLE dd0c.scoring_feedback (
    anomaly_id     uuid PRIMARY KEY REFERENCES dd0c.anomalies(id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    status         text NOT NULL CHECK (status IN ('expected', 'false_positive')),
    account_id     text NOT NULL,
    resource_type  text NOT NULL,
    actor_key      text NOT NULL,
    region         text NOT NULL,
    families       text[] NOT NULL DEFAULT '{}',
    hourly_usd     double precision NOT NULL CHECK (hourly_usd >= 0),
    event_time     timestamptz NOT NULL,        -- event time of the anomaly, never wall time
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scoring_feedback_series ON dd0c.scoring_feedback (tenant_id, account_id, resource_type, event_time DESC);

-- What the scorer said about every cost event (NULL: ignored, e.g. no price), for "why (not)?".
ALTER TABLE dd0c.cost_events
    ADD COLUMN score             double precision CHECK (score IS NULL OR score BETWEEN 0 AND 1),
    ADD COLUMN score_components  jsonb;

SELECT dd0c.protect_tenant_table('dd0c.tenant_baselines');
SELECT dd0c.protect_tenant_table('dd0c.tenant_novelty');
SELECT dd0c.protect_tenant_table('dd0c.tenant_settings');
SELECT dd0c.protect_tenant_table('dd0c.scoring_feedback');

GRANT SELECT, DELETE ON dd0c.tenant_baselines, dd0c.tenant_novelty TO dd0c_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.tenant_settings TO dd0c_operator;
GRANT SELECT, DELETE ON dd0c.scoring_feedback TO dd0c_operator;

GRANT SELECT, INSERT, UPDATE ON dd0c.tenant_baselines, dd0c.tenant_novelty TO dd0c_app;
GRANT SELECT, INSERT, UPDATE ON dd0c.tenant_settings TO dd0c_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.scoring_feedback TO dd0c_app;
GRANT UPDATE (score, score_components) ON dd0c.cost_events TO dd0c_app;

-- The scorer's two statements per tenant transaction (see scoring/scorer.py); their argument is one
-- JSON value (cheaper for the client to send than several arrays). SECURITY INVOKER: they run as
-- dd0c_app, under RLS, for the tenant they set (transaction-local, like tenant_transaction). Locks
-- in a fixed order: series rows (by key), then cost events, then the tenant row.
--   scoring_load(tenant, {"series": [key], "events": [eventID], "accounts": [id], "types": [resource type],
--                         "novelty": {dimension: [key]}}) -> {"series", "claimed", "tenant", "settings", "rules", "novelty"}
CREATE FUNCTION dd0c.scoring_load(p_tenant uuid, p json) RETURNS text
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
    PERFORM set_config('dd0c.tenant_id', p_tenant::text, true);
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

--   scoring_save(tenant, {"series": [{k, n, mean, m2, w, level, first, last, state}], "tenant": {...},
--                         "novelty": [{d, k, f, t, u}], "events": [{e, s, c}]}): the new state, once.
-- (jsonb: the argument is parsed once; the states go into their jsonb columns without another parse.)
CREATE FUNCTION dd0c.scoring_save(p_tenant uuid, p jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_keys text[] := ARRAY(SELECT jsonb_array_elements(p->'series')->>'k');
    v_events text[] := ARRAY(SELECT jsonb_array_elements(p->'events')->>'e');
BEGIN
    PERFORM set_config('dd0c.tenant_id', p_tenant::text, true);
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

REVOKE ALL ON FUNCTION dd0c.scoring_load(uuid, json) FROM PUBLIC;
REVOKE ALL ON FUNCTION dd0c.scoring_save(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.scoring_load(uuid, json) TO dd0c_app;
GRANT EXECUTE ON FUNCTION dd0c.scoring_save(uuid, jsonb) TO dd0c_app;
