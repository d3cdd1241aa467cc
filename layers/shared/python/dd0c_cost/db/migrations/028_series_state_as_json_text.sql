-- A series' and a tenant's scoring state is stored as json (its text), not jsonb (issue 9; docs/decisions.md
-- "The scoring state is kept as the scorer's JSON text"). The state is the scorer's own compact record
-- (~3.8 KB of text for a busy series, hundreds of numbers), read whole and written whole by every scoring
-- transaction and never queried inside PostgreSQL; as jsonb, every save parsed it into a tree of numerics
-- (~13 % of the scoring backend's CPU) and every load wrote it out again. Now scoring_save receives it as a
-- JSON string inside its argument and stores the text after checking it is JSON; scoring_load returns it
-- as it is. What is stored is the same JSON value; its text keeps the scorer's key order and number
-- spelling (decision 76: scores do not depend on the order of its keys).

ALTER TABLE dd0c.spend_baselines ALTER COLUMN state TYPE json USING state::json;
ALTER TABLE dd0c.spend_baselines ALTER COLUMN state SET STORAGE MAIN;  -- as migration 006 had it
ALTER TABLE dd0c.tenant_baselines ALTER COLUMN state TYPE json USING state::json;

CREATE OR REPLACE FUNCTION dd0c.scoring_save(p_tenant uuid, p jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM dd0c.current_tenant() THEN
        RAISE EXCEPTION '%: tenant % is not the tenant this transaction set', 'scoring_save', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- as migration 023's, but "state" is the state's JSON text as a string (stored as json: checked, kept)
    WITH series AS (
        UPDATE dd0c.spend_baselines b
            SET n = v.n, mean = v.mean, m2 = v.m2, weight = v.w, level_usd_per_hour = v.level,
                first_event_at = to_timestamp(v.first), last_event_at = to_timestamp(v.last), state = v.state::json
            FROM jsonb_to_recordset(p->'series')
                 AS v(k text, n bigint, mean float8, m2 float8, w float8, level float8, first float8, last float8,
                      state text)
            WHERE b.tenant_id = p_tenant
              AND b.series_key = ANY(ARRAY(SELECT jsonb_array_elements(p->'series')->>'k'))
              AND b.series_key = v.k
    ), tenant AS (
        UPDATE dd0c.tenant_baselines t
            SET n = v.n, mean = v.mean, m2 = v.m2, weight = v.w, level_usd_per_hour = v.level,
                first_event_at = to_timestamp(v.first), last_event_at = to_timestamp(v.last), state = v.state::json
            FROM jsonb_to_record(p->'tenant')
                 AS v(n bigint, mean float8, m2 float8, w float8, level float8, first float8, last float8, state text)
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

-- (CREATE OR REPLACE dropped migration 023's setting)
ALTER FUNCTION dd0c.scoring_save(uuid, jsonb) SET plan_cache_mode = force_generic_plan;
