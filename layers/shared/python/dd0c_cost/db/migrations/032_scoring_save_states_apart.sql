-- scoring_save takes the series' and the tenant's state texts as their own arguments, not as strings inside its
-- jsonb argument (issue 9; docs/decisions.md 98). Each state is the scorer's JSON text (~2 KB a series, migration
-- 028); as a string inside the jsonb argument PostgreSQL lexed it character by character, escapes and all, only
-- to take the text out again: half of the argument's bytes and ~4 % of the scoring backend's work. Now the texts
-- come as a text[] in binary (no parsing at all) and a text; each is still checked as JSON where it is stored
-- (::json). The rows written are the same. The two-argument function stays for a scorer deployed before this.

CREATE FUNCTION dd0c.scoring_save(p_tenant uuid, p jsonb, p_states text[], p_tenant_state text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM dd0c.current_tenant() THEN
        RAISE EXCEPTION '%: tenant % is not the tenant this transaction set', 'scoring_save', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- as migration 028's, but a series' state is p_states[i] (i: its place in p->'series', from 1), the tenant's
    -- p_tenant_state
    WITH series AS (
        UPDATE dd0c.spend_baselines b
            SET n = v.n, mean = v.mean, m2 = v.m2, weight = v.w, level_usd_per_hour = v.level,
                first_event_at = to_timestamp(v.first), last_event_at = to_timestamp(v.last),
                state = p_states[v.i]::json
            FROM jsonb_to_recordset(p->'series')
                 AS v(k text, n bigint, mean float8, m2 float8, w float8, level float8, first float8, last float8,
                      i integer)
            WHERE b.tenant_id = p_tenant
              AND b.series_key = ANY(ARRAY(SELECT jsonb_array_elements(p->'series')->>'k'))
              AND b.series_key = v.k
    ), tenant AS (
        UPDATE dd0c.tenant_baselines t
            SET n = v.n, mean = v.mean, m2 = v.m2, weight = v.w, level_usd_per_hour = v.level,
                first_event_at = to_timestamp(v.first), last_event_at = to_timestamp(v.last),
                state = p_tenant_state::json
            FROM jsonb_to_record(p->'tenant')
                 AS v(n bigint, mean float8, m2 float8, w float8, level float8, first float8, last float8)
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

ALTER FUNCTION dd0c.scoring_save(uuid, jsonb, text[], text) SET plan_cache_mode = force_generic_plan;
REVOKE ALL ON FUNCTION dd0c.scoring_save(uuid, jsonb, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.scoring_save(uuid, jsonb, text[], text) TO dd0c_app;
