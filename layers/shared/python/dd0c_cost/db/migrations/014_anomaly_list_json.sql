-- The anomaly list's JSON of each row is written when the row is written, not on every read (issue 9;
-- docs/decisions.md: "The anomaly list's rows are written once"). GET /v1/anomalies used to build each
-- row's JSON from its columns in the page query (dashboard.anomalies._SQL_ROW, decision 74): about 8 µs of
-- PostgreSQL's CPU per row on every read, more than half of the list's database time. Two stored generated
-- columns now hold the row's JSON before and after its summary, components and attributes (which Python
-- writes, as before), with exactly the expressions the page query used; the read adds the ticket's part.
--
-- The functions pin the settings the text depends on (shortest floats, ISO dates, UTC), so a row reads the
-- same whatever session wrote it; they are IMMUTABLE in that sense, which is what a generated column needs.
-- list_head is NULL when the row is not plain enough for PostgreSQL to write it exactly as json.dumps of
-- its model would (text that is not printable ASCII without quotes or backslashes, NULL array elements,
-- floats json would write with an exponent, years outside 1000-9999): the page is then made by Python.

CREATE FUNCTION dd0c.anomaly_list_time(p timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET "DateStyle" = 'ISO, MDY' SET "TimeZone" = 'UTC'
    AS $$ SELECT rpad(replace((p AT TIME ZONE 'UTC')::text, ' ', 'T'),
                      CASE WHEN mod(date_part('microseconds', p)::bigint, 1000000) = 0 THEN 19 ELSE 26 END, '0') || 'Z' $$;

CREATE FUNCTION dd0c.anomaly_list_head(
    p_id uuid, p_tenant uuid, p_account text, p_region text, p_service text, p_type text, p_resource_ids text[],
    p_event_ids text[], p_actor text, p_detected timestamptz, p_score float8, p_severity text, p_usd float8,
    p_status text, p_snoozed timestamptz, p_delivery_detail text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET extra_float_digits = 1 SET "DateStyle" = 'ISO, MDY' SET "TimeZone" = 'UTC'
    AS $$ SELECT CASE WHEN
        (p_account || p_region || p_service || p_type || p_actor || p_severity || p_status
         || array_to_string(p_resource_ids, '') || array_to_string(p_event_ids, '')
         || coalesce(p_delivery_detail, '')) ~ '^[] !#-[^-~]*$'
        AND array_position(p_resource_ids, NULL) IS NULL AND array_position(p_event_ids, NULL) IS NULL
        AND ((p_score >= 1e-4 AND p_score <= 1) OR p_score = 0)
        AND ((abs(p_usd) >= 1e-4 AND abs(p_usd) < 1e14) OR p_usd = 0)
        AND p_detected BETWEEN '1000-01-01Z' AND '9999-12-31Z'
        AND (p_snoozed IS NULL OR p_snoozed BETWEEN '1000-01-01Z' AND '9999-12-31Z')
    THEN '{"id":"' || p_id::text || '","tenant_id":"' || p_tenant::text || '","account_id":"' || p_account
        || '","region":"' || p_region || '","service":"' || p_service || '","resource_type":"' || p_type
        || '","resource_ids":'
        || CASE WHEN cardinality(p_resource_ids) = 0 THEN '[]' ELSE '["' || array_to_string(p_resource_ids, '","') || '"]' END
        || ',"event_ids":'
        || CASE WHEN cardinality(p_event_ids) = 0 THEN '[]' ELSE '["' || array_to_string(p_event_ids, '","') || '"]' END
        || ',"actor":"' || p_actor || '","detected_at":"' || dd0c.anomaly_list_time(p_detected)
        || '","score":' || p_score::text || CASE WHEN p_score = trunc(p_score) THEN '.0' ELSE '' END
        || ',"severity":"' || p_severity || '","estimated_hourly_usd":' || p_usd::text
        || CASE WHEN p_usd = trunc(p_usd) THEN '.0' ELSE '' END
        || ',"status":"' || p_status || '","summary":'
    END $$;

-- After the attributes, up to the ticket's fields (the read adds those and the closing brace). Only used
-- with a list_head, which checked that this text needs no escaping.
CREATE FUNCTION dd0c.anomaly_list_tail(
    p_snoozed timestamptz, p_withheld text, p_delivery_status text, p_delivery_detail text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET "DateStyle" = 'ISO, MDY' SET "TimeZone" = 'UTC'
    AS $$ SELECT ',"snoozed_until":' || coalesce('"' || dd0c.anomaly_list_time(p_snoozed) || '"', 'null')
        || ',"notify_withheld":' || coalesce('"' || p_withheld || '"', 'null')
        || ',"delivery_status":"' || coalesce(p_delivery_status, 'pending')
        || '","delivery_detail":' || coalesce('"' || p_delivery_detail || '"', 'null') $$;

ALTER TABLE dd0c.anomalies
    ADD COLUMN list_head text GENERATED ALWAYS AS (dd0c.anomaly_list_head(
        id, tenant_id, account_id, region, service, resource_type, resource_ids, event_ids, actor, detected_at,
        score, severity, estimated_hourly_usd, status, snoozed_until, delivery_detail)) STORED,
    ADD COLUMN list_tail text GENERATED ALWAYS AS (dd0c.anomaly_list_tail(
        snoozed_until, notify_withheld, delivery_status, delivery_detail)) STORED;
