-- The scorer writes list_json for the anomalies it grows, as it does for those it raises (issue 9; docs/decisions.md 94;
-- amends migration 027). Each grown anomaly ran dd0c.anomaly_list_json from the BEFORE UPDATE trigger: ~3.3 M
-- instructions of the scoring backend per grow (in a new transaction its nested PL/pgSQL statements and simple
-- expressions are set up again), ~7 % of the backend's work per scored event on the bench stream. Now a transaction that
-- says so (set_config('dd0c.list_json_writer', 'scorer', true): the scorer's, for its own transaction only) gets no
-- list_json from the UPDATE trigger; the scorer reads the grown row back (RETURNING) and writes its list_json in the
-- same transaction: its own text where it follows PostgreSQL's exactly (scoring/list_json.py), else the function's.
-- Every other UPDATE is as before: list_json is written again whenever what it lists changes, and no UPDATE stores
-- a value of its own.

DROP TRIGGER anomalies_list_json_update ON dd0c.anomalies;

CREATE TRIGGER anomalies_list_json_update BEFORE UPDATE ON dd0c.anomalies
    FOR EACH ROW WHEN (
        current_setting('dd0c.list_json_writer', true) IS DISTINCT FROM 'scorer'
        AND (NEW.list_json IS DISTINCT FROM OLD.list_json
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
                 OLD.delivery_status, OLD.delivery_detail)))
    EXECUTE FUNCTION dd0c.anomalies_list_json();
