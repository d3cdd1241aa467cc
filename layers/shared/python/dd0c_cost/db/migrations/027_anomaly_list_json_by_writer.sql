-- The anomaly list's row JSON (list_json, migration 026) is written once per change of what it lists
-- (issue 9; docs/decisions.md "list_json is written when what it lists changes, by the scorer for its new
-- anomalies"). As a stored generated column PostgreSQL computed it on every INSERT and UPDATE of a row,
-- also when nothing it lists changed (notify's notified_revision), and for the scorer's new anomalies it
-- cost the scoring backend about a millisecond each (the attributes walked by recursive PL/pgSQL calls):
-- ~15 % of its CPU per scored event on the bench stream.
--   * list_json becomes a plain column (its values stay: DROP EXPRESSION rewrites nothing).
--   * A row inserted without it gets dd0c.anomaly_list_json(...) as before (every writer but the scorer).
--     The scorer writes it for its new anomalies from the values it inserts (scoring/list_json.py: only
--     values whose way through PostgreSQL it follows exactly; it leaves the others out).
--   * An update writes it again when any column it lists changes, and whenever an UPDATE sets list_json
--     itself: no UPDATE can store a value of its own. "Changes" as the function would see it: floats by
--     their bits (-0.0 and 0 are equal as float8, not as text), jsonb by its text (1 and 1.0 are equal as
--     jsonb; the function writes the one as an integer, the other as a float).

ALTER TABLE dd0c.anomalies ALTER COLUMN list_json DROP EXPRESSION;

CREATE FUNCTION dd0c.anomalies_list_json() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.list_json := dd0c.anomaly_list_json(
        NEW.id, NEW.tenant_id, NEW.account_id, NEW.region, NEW.service, NEW.resource_type, NEW.resource_ids,
        NEW.event_ids, NEW.actor, NEW.detected_at, NEW.score, NEW.severity, NEW.estimated_hourly_usd, NEW.status,
        NEW.summary, NEW.components, NEW.attributes, NEW.snoozed_until, NEW.notify_withheld, NEW.delivery_status,
        NEW.delivery_detail);
    RETURN NEW;
END $$;

CREATE TRIGGER anomalies_list_json_insert BEFORE INSERT ON dd0c.anomalies
    FOR EACH ROW WHEN (NEW.list_json IS NULL) EXECUTE FUNCTION dd0c.anomalies_list_json();

CREATE TRIGGER anomalies_list_json_update BEFORE UPDATE ON dd0c.anomalies
    FOR EACH ROW WHEN (
        NEW.list_json IS DISTINCT FROM OLD.list_json
        OR (NEW.id, NEW.tenant_id, NEW.account_id, NEW.region, NEW.service, NEW.resource_type, NEW.resource_ids,
            NEW.event_ids, NEW.actor, NEW.detected_at, float8send(NEW.score), NEW.severity,
            float8send(NEW.estimated_hourly_usd), NEW.status, NEW.summary, NEW.components::text,
            NEW.attributes::text, NEW.snoozed_until, NEW.notify_withheld,
            NEW.delivery_status, NEW.delivery_detail)
           IS DISTINCT FROM
           (OLD.id, OLD.tenant_id, OLD.account_id, OLD.region, OLD.service, OLD.resource_type, OLD.resource_ids,
            OLD.event_ids, OLD.actor, OLD.detected_at, float8send(OLD.score), OLD.severity,
            float8send(OLD.estimated_hourly_usd), OLD.status, OLD.summary, OLD.components::text,
            OLD.attributes::text, OLD.snoozed_until, OLD.notify_withheld,
            OLD.delivery_status, OLD.delivery_detail))
    EXECUTE FUNCTION dd0c.anomalies_list_json();
