-- The anomaly list's whole row is written with the row (issue 9; docs/decisions.md: "The anomaly list's
-- rows are written whole"; completes 014). Migration 014 stored the row's JSON around its summary,
-- components and attributes, which Python still parsed and wrote on every read (orjson, ~5 µs a row, and
-- PostgreSQL's jsonb output for two columns a row). list_json now holds all of it but the ticket's fields,
-- written exactly as the API's route writes it: json.dumps of the model's JSON dump, with json's
-- ensure_ascii escaping and Python's float repr. NULL when it cannot be written that exactly (text of the ids,
-- account, region, service, type, actor or delivery fields that is not printable ASCII without quotes or
-- backslashes, NULLs in the id arrays, a score or $/h json would write with an exponent, years outside
-- 1000-9999, components ScoreComponent would not dump as they are, an attribute float of 1e15 or more, where
-- the two float formats differ, a database not in UTF8): the page is then made by Python. Computing it costs
-- about 60-100 µs of a write of the row (PostgreSQL recomputes it on every update of the row); adding the
-- column rewrites the table once.

-- A JSON string as Python's json.dumps writes it (ensure_ascii: ", \ and control characters escaped, like
-- everything outside printable ASCII, as \uXXXX, UTF-16 surrogate pairs beyond the BMP).
CREATE FUNCTION dd0c.json_ascii(p text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    out text;
    c text;
    n integer;
BEGIN
    IF p ~ '^[] !#-[^-~]*$' THEN
        RETURN '"' || p || '"';
    END IF;
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RETURN NULL;
    END IF;
    out := replace(replace(p, '\', '\\'), '"', '\"');
    FOR c IN SELECT DISTINCT m[1] FROM regexp_matches(out, '([^ -~])', 'g') AS m LOOP
        n := ascii(c);
        out := replace(out, c, CASE
            WHEN n = 10 THEN '\n'
            WHEN n = 13 THEN '\r'
            WHEN n = 9 THEN '\t'
            WHEN n = 8 THEN '\b'
            WHEN n = 12 THEN '\f'
            WHEN n < 65536 THEN '\u' || lpad(to_hex(n), 4, '0')
            ELSE '\u' || to_hex(55296 + ((n - 65536) >> 10)) || '\u' || to_hex(56320 + ((n - 65536) & 1023))
        END);
    END LOOP;
    RETURN '"' || out || '"';
END $$;

-- A float as Python's repr writes it (what json.dumps writes): the shortest digits that read back the same,
-- ".0" on whole numbers, the exponent form below 1e-4. PostgreSQL (extra_float_digits >= 1) writes the same
-- below 1e15; from there it switches to the exponent form a decade early and writes whole numbers with all
-- their digits (4.2208427975019424e+16 where Python writes 4.220842797501942e+16): NULL from 1e15.
CREATE FUNCTION dd0c.json_float(p float8) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE
        WHEN current_setting('extra_float_digits')::integer < 1 THEN NULL
        WHEN p::text IN ('NaN', 'Infinity', '-Infinity') OR abs(p) >= 1e15 THEN NULL
        WHEN p::text ~ '[.e]' THEN p::text
        ELSE p::text || '.0'
    END $$;

-- Any JSON value as json.dumps writes what json.loads reads from jsonb's text: objects in jsonb's key order,
-- integers as they are, other numbers as floats, strings escaped as above; NULL if any part cannot be.
CREATE FUNCTION dd0c.json_python(p jsonb, depth integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    kind text := jsonb_typeof(p);
    out text;
    part text;
    k text;
    v jsonb;
BEGIN
    IF depth > 20 THEN
        RETURN NULL;
    END IF;
    IF kind = 'object' THEN
        out := '';
        FOR k, v IN SELECT key, value FROM jsonb_each(p) LOOP
            part := dd0c.json_ascii(k) || ':' || dd0c.json_python(v, depth + 1);
            IF part IS NULL THEN
                RETURN NULL;
            END IF;
            out := out || CASE WHEN out = '' THEN '' ELSE ',' END || part;
        END LOOP;
        RETURN '{' || out || '}';
    ELSIF kind = 'array' THEN
        out := '';
        FOR v IN SELECT value FROM jsonb_array_elements(p) LOOP
            part := dd0c.json_python(v, depth + 1);
            IF part IS NULL THEN
                RETURN NULL;
            END IF;
            out := out || CASE WHEN out = '' THEN '' ELSE ',' END || part;
        END LOOP;
        RETURN '[' || out || ']';
    ELSIF kind = 'string' THEN
        RETURN dd0c.json_ascii(p #>> '{}');
    ELSIF kind = 'number' THEN
        IF p::text ~ '^-?[0-9]+$' THEN
            RETURN p::text;  -- json.loads reads an integer exactly, whatever its size
        END IF;
        IF p::numeric <> 0 AND NOT (abs(p::numeric) BETWEEN 1e-300 AND 1e300) THEN
            RETURN NULL;  -- beyond a float (json.loads: inf, or 0.0 from a non-zero text)
        END IF;
        RETURN dd0c.json_float(p::numeric::float8);
    ELSIF kind = 'boolean' THEN
        RETURN p::text;
    END IF;
    RETURN 'null';
END $$;

-- The row's JSON but its ticket's fields, or NULL (the conditions above). One function, its settings pinned
-- once (shortest floats, ISO dates, UTC), so a row reads the same whatever session wrote it.
CREATE FUNCTION dd0c.anomaly_list_json(
    p_id uuid, p_tenant uuid, p_account text, p_region text, p_service text, p_type text, p_resource_ids text[],
    p_event_ids text[], p_actor text, p_detected timestamptz, p_score float8, p_severity text, p_usd float8,
    p_status text, p_summary text, p_components jsonb, p_attributes jsonb, p_snoozed timestamptz, p_withheld text,
    p_delivery_status text, p_delivery_detail text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET extra_float_digits = 1 SET "DateStyle" = 'ISO, MDY' SET "TimeZone" = 'UTC'
    AS $$
DECLARE
    parts text := '';
    e jsonb;
    v numeric;
    attributes text;
BEGIN
    IF NOT ((p_account || p_region || p_service || p_type || p_actor || p_severity || p_status
             || array_to_string(p_resource_ids, '') || array_to_string(p_event_ids, '')
             || coalesce(p_delivery_detail, '') || coalesce(p_withheld, '') || coalesce(p_delivery_status, ''))
                ~ '^[] !#-[^-~]*$'
            AND array_position(p_resource_ids, NULL) IS NULL AND array_position(p_event_ids, NULL) IS NULL
            AND ((p_score >= 1e-4 AND p_score <= 1) OR p_score = 0)
            AND ((abs(p_usd) >= 1e-4 AND abs(p_usd) < 1e14) OR p_usd = 0)
            AND p_detected BETWEEN '1000-01-01Z' AND '9999-12-31Z'
            AND (p_snoozed IS NULL OR p_snoozed BETWEEN '1000-01-01Z' AND '9999-12-31Z')
            AND jsonb_typeof(p_components) = 'array' AND jsonb_typeof(p_attributes) = 'object') THEN
        RETURN NULL;
    END IF;
    -- components as ScoreComponent dumps them: name, value (a float in [0, 1]), reason; other keys dropped
    FOR e IN SELECT value FROM jsonb_array_elements(p_components) LOOP
        IF jsonb_typeof(e) <> 'object' OR jsonb_typeof(e -> 'name') IS DISTINCT FROM 'string'
                OR jsonb_typeof(e -> 'reason') IS DISTINCT FROM 'string'
                OR jsonb_typeof(e -> 'value') IS DISTINCT FROM 'number' THEN
            RETURN NULL;
        END IF;
        v := (e -> 'value')::numeric;
        IF NOT (v BETWEEN 1e-4 AND 1 OR v = 0) THEN
            RETURN NULL;
        END IF;
        parts := parts || CASE WHEN parts = '' THEN '{"name":' ELSE ',{"name":' END || dd0c.json_ascii(e ->> 'name')
            || ',"value":' || dd0c.json_float(v::float8) || ',"reason":' || dd0c.json_ascii(e ->> 'reason') || '}';
    END LOOP;
    attributes := dd0c.json_python(p_attributes, 0);
    RETURN '{"id":"' || p_id::text || '","tenant_id":"' || p_tenant::text || '","account_id":"' || p_account
        || '","region":"' || p_region || '","service":"' || p_service || '","resource_type":"' || p_type
        || '","resource_ids":'
        || CASE WHEN cardinality(p_resource_ids) = 0 THEN '[]' ELSE '["' || array_to_string(p_resource_ids, '","') || '"]' END
        || ',"event_ids":'
        || CASE WHEN cardinality(p_event_ids) = 0 THEN '[]' ELSE '["' || array_to_string(p_event_ids, '","') || '"]' END
        || ',"actor":"' || p_actor || '","detected_at":"'
        || rpad(replace((p_detected AT TIME ZONE 'UTC')::text, ' ', 'T'),
                CASE WHEN mod(date_part('microseconds', p_detected)::bigint, 1000000) = 0 THEN 19 ELSE 26 END, '0')
        || 'Z","score":' || p_score::text || CASE WHEN p_score = trunc(p_score) THEN '.0' ELSE '' END
        || ',"severity":"' || p_severity || '","estimated_hourly_usd":' || p_usd::text
        || CASE WHEN p_usd = trunc(p_usd) THEN '.0' ELSE '' END
        || ',"status":"' || p_status || '","summary":' || dd0c.json_ascii(p_summary)
        || ',"components":[' || parts || '],"attributes":' || attributes
        || ',"snoozed_until":' || coalesce('"' || rpad(replace((p_snoozed AT TIME ZONE 'UTC')::text, ' ', 'T'),
                CASE WHEN mod(date_part('microseconds', p_snoozed)::bigint, 1000000) = 0 THEN 19 ELSE 26 END, '0')
                || 'Z"', 'null')
        || ',"notify_withheld":' || coalesce('"' || p_withheld || '"', 'null')
        || ',"delivery_status":"' || coalesce(p_delivery_status, 'pending')
        || '","delivery_detail":' || coalesce('"' || p_delivery_detail || '"', 'null');
END $$;

ALTER TABLE dd0c.anomalies
    DROP COLUMN list_head,
    DROP COLUMN list_tail,
    ADD COLUMN list_json text GENERATED ALWAYS AS (dd0c.anomaly_list_json(
        id, tenant_id, account_id, region, service, resource_type, resource_ids, event_ids, actor, detected_at,
        score, severity, estimated_hourly_usd, status, summary, components, attributes, snoozed_until,
        notify_withheld, delivery_status, delivery_detail)) STORED;

DROP FUNCTION dd0c.anomaly_list_head(uuid, uuid, text, text, text, text, text[], text[], text, timestamptz, float8,
    text, float8, text, timestamptz, text);
DROP FUNCTION dd0c.anomaly_list_tail(timestamptz, text, text, text);
DROP FUNCTION dd0c.anomaly_list_time(timestamptz);
