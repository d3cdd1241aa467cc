-- The anomalies table's value rules are domains, and its UPDATE trigger's change test is in the trigger function
-- (issue 9; docs/decisions.md 99; as migration 031 did for the other scoring tables). PostgreSQL parses a table's
-- CHECK expressions and a trigger's WHEN clause again for every statement that writes the table: each scoring
-- transaction that raises or grows anomalies parsed the five CHECKs per statement and, per UPDATE, the list_json
-- trigger's 22-column WHEN (~270k instructions each). A domain's CHECK is parsed once per session (the type cache)
-- and a PL/pgSQL function's expressions once per session too. Same rules, same rows refused (SQLSTATE 23514), the
-- same list_json written on the same updates.
-- The trigger is dropped first (its WHEN names the columns whose type changes) and made again with a WHEN that only
-- leaves out the scorer's transaction (migration 030); whether a listed column changed is now asked by the function.
-- No table is rewritten: the columns take domains without constraints (the same base type), then the domains get
-- their CHECKs as NOT VALID (stored rows were held by the table constraints dropped in the same transaction).

DROP TRIGGER anomalies_list_json_update ON dd0c.anomalies;

CREATE DOMAIN dd0c.anomaly_score AS double precision;  -- [0, 1]: dd0c.fraction's rule, but a domain with a CHECK
                                                       -- already would make the table be rewritten (every row checked)
CREATE DOMAIN dd0c.anomaly_severity AS text;
CREATE DOMAIN dd0c.anomaly_status AS text;
CREATE DOMAIN dd0c.delivery_status AS text;
CREATE DOMAIN dd0c.notify_withheld AS text;

ALTER TABLE dd0c.anomalies
    ALTER COLUMN score TYPE dd0c.anomaly_score,
    ALTER COLUMN severity TYPE dd0c.anomaly_severity,
    ALTER COLUMN status TYPE dd0c.anomaly_status,
    ALTER COLUMN delivery_status TYPE dd0c.delivery_status,
    ALTER COLUMN notify_withheld TYPE dd0c.notify_withheld;

ALTER DOMAIN dd0c.anomaly_score ADD CONSTRAINT anomaly_score_check CHECK (VALUE >= 0 AND VALUE <= 1) NOT VALID;
ALTER DOMAIN dd0c.anomaly_severity ADD CONSTRAINT anomaly_severity_check
    CHECK (VALUE IN ('low', 'medium', 'high', 'critical')) NOT VALID;
ALTER DOMAIN dd0c.anomaly_status ADD CONSTRAINT anomaly_status_check
    CHECK (VALUE IN ('open', 'acknowledged', 'snoozed', 'expected', 'false_positive')) NOT VALID;
ALTER DOMAIN dd0c.delivery_status ADD CONSTRAINT delivery_status_check
    CHECK (VALUE IN ('slack', 'outbox', 'undelivered')) NOT VALID;
ALTER DOMAIN dd0c.notify_withheld ADD CONSTRAINT notify_withheld_check
    CHECK (VALUE IN ('shadow', 'panic')) NOT VALID;

ALTER TABLE dd0c.anomalies
    DROP CONSTRAINT anomalies_score_check,
    DROP CONSTRAINT anomalies_severity_check,
    DROP CONSTRAINT anomalies_status_check,
    DROP CONSTRAINT anomalies_delivery_status_check,
    DROP CONSTRAINT anomalies_notify_withheld_check;

-- migration 030's WHEN, less the scorer's test: list_json is written again when an UPDATE sets it or changes what it
-- lists as dd0c.anomaly_list_json would see it (floats by their bits, jsonb by its text)
CREATE FUNCTION dd0c.anomalies_list_json_update() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.list_json IS DISTINCT FROM OLD.list_json
       OR (NEW.id, NEW.tenant_id, NEW.account_id, NEW.region, NEW.service, NEW.resource_type, NEW.resource_ids,
           NEW.event_ids, NEW.actor, NEW.detected_at, float8send(NEW.score), NEW.severity,
           float8send(NEW.estimated_hourly_usd), NEW.status, NEW.summary, NEW.components::text,
           NEW.attributes::text, NEW.snoozed_until, NEW.notify_withheld, NEW.delivery_status, NEW.delivery_detail)
          IS DISTINCT FROM
          (OLD.id, OLD.tenant_id, OLD.account_id, OLD.region, OLD.service, OLD.resource_type, OLD.resource_ids,
           OLD.event_ids, OLD.actor, OLD.detected_at, float8send(OLD.score), OLD.severity,
           float8send(OLD.estimated_hourly_usd), OLD.status, OLD.summary, OLD.components::text,
           OLD.attributes::text, OLD.snoozed_until, OLD.notify_withheld, OLD.delivery_status, OLD.delivery_detail)
    THEN
        NEW.list_json := dd0c.anomaly_list_json(
            NEW.id, NEW.tenant_id, NEW.account_id, NEW.region, NEW.service, NEW.resource_type, NEW.resource_ids,
            NEW.event_ids, NEW.actor, NEW.detected_at, NEW.score, NEW.severity, NEW.estimated_hourly_usd, NEW.status,
            NEW.summary, NEW.components, NEW.attributes, NEW.snoozed_until, NEW.notify_withheld, NEW.delivery_status,
            NEW.delivery_detail);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER anomalies_list_json_update BEFORE UPDATE ON dd0c.anomalies
    FOR EACH ROW WHEN (current_setting('dd0c.list_json_writer', true) IS DISTINCT FROM 'scorer')
    EXECUTE FUNCTION dd0c.anomalies_list_json_update();
