-- Scoring throughput (issue 9): the scorer's two functions in fewer statements. Each PL/pgSQL
-- statement costs the backend its executor start and end, snapshot and plan check (~15-25 us)
-- whatever rows it touches; a batch of ten from one group spent more on those than on its rows.
-- Same arguments, same result, same locks in the same order (series rows by key, cost events,
-- the tenant row); only the statements are fewer:
--   * scoring_load: the series rows are read and locked by one statement that also counts them
--     (new series, rarely: their rows are inserted and the rows read again, as before, in key
--     order); the tenant row likewise (inserted when missing, then read); settings, feedback rules
--     and novelty keys in one statement; the argument's arrays are read where they are used.
--   * scoring_save: one statement (data-modifying WITH parts for the series, the tenant and the
--     novelty keys, then the cost events) instead of six. Each part writes another table and the
--     rows it writes are already locked by this transaction (scoring_load), so their order within
--     the statement does not matter.

CREATE OR REPLACE FUNCTION dd0c.scoring_load(p_tenant uuid, p json) RETURNS text
    LANGUAGE plpgsql
    AS $$
DECLARE
    v jsonb := p::jsonb;  -- parsed once (each -> on json parses the text again)
    v_keys text[] := ARRAY(SELECT jsonb_array_elements_text(v->'series'));
    v_series json;
    v_claimed json;
    v_tenant json;
BEGIN
    IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM dd0c.current_tenant() THEN
        RAISE EXCEPTION '%: tenant % is not the tenant this transaction set', 'scoring_load', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- New series get their rows first (rarely: most batches find them all), so that every series
    -- row is locked in key order by the one statement below.
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
              WHERE tenant_id = p_tenant AND event_id = ANY(ARRAY(SELECT jsonb_array_elements_text(v->'events')))
                AND scored_at IS NULL FOR UPDATE) c;
    SELECT json_build_object('n', t.n, 'mean', t.mean, 'm2', t.m2, 'w', t.weight, 'level', t.level_usd_per_hour,
                             'first', extract(epoch FROM t.first_event_at), 'last', extract(epoch FROM t.last_event_at),
                             'state', t.state)
        INTO v_tenant
        FROM dd0c.tenant_baselines t WHERE t.tenant_id = p_tenant FOR UPDATE;
    IF NOT FOUND THEN  -- a new tenant (once)
        INSERT INTO dd0c.tenant_baselines (tenant_id) VALUES (p_tenant) ON CONFLICT DO NOTHING;
        SELECT json_build_object('n', t.n, 'mean', t.mean, 'm2', t.m2, 'w', t.weight, 'level', t.level_usd_per_hour,
                                 'first', extract(epoch FROM t.first_event_at),
                                 'last', extract(epoch FROM t.last_event_at), 'state', t.state)
            INTO v_tenant
            FROM dd0c.tenant_baselines t WHERE t.tenant_id = p_tenant FOR UPDATE;
    END IF;
    -- settings, feedback rules and exactly the (dimension, key) novelty pairs the batch can look
    -- up (and every price tier), key lookups, and the answer: one statement
    RETURN (SELECT json_build_object(
        'series', v_series, 'claimed', v_claimed, 'tenant', v_tenant,
        'settings', (SELECT row_to_json(s)
                     FROM (SELECT alert_floor_usd_per_hour, score_threshold, cold_start_days, cold_start_usd_per_hour,
                                  cold_start_resources, burst_gap_s
                           FROM dd0c.tenant_settings WHERE tenant_id = p_tenant) s),
        'rules', (SELECT coalesce(json_agg(r), '[]')
                  FROM (SELECT anomaly_id, status, account_id, resource_type, actor_key, region, families, hourly_usd,
                               extract(epoch FROM event_time) AS t, created_by
                        FROM dd0c.scoring_feedback
                        WHERE tenant_id = p_tenant
                          AND account_id = ANY(ARRAY(SELECT jsonb_array_elements_text(v->'accounts')))
                          AND resource_type = ANY(ARRAY(SELECT jsonb_array_elements_text(v->'types')))
                        ORDER BY event_time DESC LIMIT 200) r),
        'novelty', (SELECT coalesce(json_agg(json_build_array(n.dimension, n.key, extract(epoch FROM n.last_seen_at),
                                                              n.max_usd_per_hour)), '[]')
                    FROM (SELECT d.key AS dim, jsonb_array_elements_text(d.value) AS k FROM jsonb_each(v->'novelty') d
                          UNION ALL
                          SELECT 'tier', t::text FROM generate_series(0, 9) AS t) q
                    JOIN dd0c.tenant_novelty n ON n.tenant_id = p_tenant AND n.dimension = q.dim AND n.key = q.k)
    )::text);
END
$$;


CREATE OR REPLACE FUNCTION dd0c.scoring_save(p_tenant uuid, p jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM dd0c.current_tenant() THEN
        RAISE EXCEPTION '%: tenant % is not the tenant this transaction set', 'scoring_save', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- (the ANY() predicates make PostgreSQL find the rows by key, not read all of the tenant's rows)
    WITH series AS (
        UPDATE dd0c.spend_baselines b
            SET n = v.n, mean = v.mean, m2 = v.m2, weight = v.w, level_usd_per_hour = v.level,
                first_event_at = to_timestamp(v.first), last_event_at = to_timestamp(v.last), state = v.state
            FROM jsonb_to_recordset(p->'series')
                 AS v(k text, n bigint, mean float8, m2 float8, w float8, level float8, first float8, last float8,
                      state jsonb)
            WHERE b.tenant_id = p_tenant
              AND b.series_key = ANY(ARRAY(SELECT jsonb_array_elements(p->'series')->>'k'))
              AND b.series_key = v.k
    ), tenant AS (
        UPDATE dd0c.tenant_baselines t
            SET n = v.n, mean = v.mean, m2 = v.m2, weight = v.w, level_usd_per_hour = v.level,
                first_event_at = to_timestamp(v.first), last_event_at = to_timestamp(v.last), state = v.state
            FROM jsonb_to_record(p->'tenant')
                 AS v(n bigint, mean float8, m2 float8, w float8, level float8, first float8, last float8, state jsonb)
            WHERE t.tenant_id = p_tenant
    ), novelty AS (
        INSERT INTO dd0c.tenant_novelty AS n (tenant_id, dimension, key, first_seen_at, last_seen_at, max_usd_per_hour)
            SELECT p_tenant, v.d, v.k, to_timestamp(v.f), to_timestamp(v.t), v.u
            FROM jsonb_to_recordset(p->'novelty') AS v(d text, k text, f float8, t float8, u float8)
            ON CONFLICT (tenant_id, dimension, key) DO UPDATE SET
                last_seen_at = GREATEST(n.last_seen_at, EXCLUDED.last_seen_at),
                max_usd_per_hour = GREATEST(n.max_usd_per_hour, EXCLUDED.max_usd_per_hour)
    )
    UPDATE dd0c.cost_events c SET scored_at = now(), score = v.s, score_components = v.c
        FROM jsonb_to_recordset(p->'events') AS v(e text, s float8, c jsonb)
        WHERE c.tenant_id = p_tenant
          AND c.event_id = ANY(ARRAY(SELECT jsonb_array_elements(p->'events')->>'e'))
          AND c.event_id = v.e;
END
$$;

-- Generic plans for the two functions' statements: with an array argument PostgreSQL estimated a
-- custom plan cheaper and planned every statement again on every call (each plan: an index scan
-- by key either way).
ALTER FUNCTION dd0c.scoring_load(uuid, json) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION dd0c.scoring_save(uuid, jsonb) SET plan_cache_mode = force_generic_plan;
