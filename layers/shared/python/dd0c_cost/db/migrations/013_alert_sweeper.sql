-- Alerts are never lost (issue 7). The database is the truth for what must be posted: an anomaly
-- whose revision is above notified_revision (and that governance did not withhold). The sweeper
-- finds those across tenants through one narrow door, dd0c.unsent_alerts (ids and revisions only),
-- and hands them to the notify stage again; notify_body posts each revision at most once.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dd0c_sweeper') THEN
        CREATE ROLE dd0c_sweeper NOLOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT pg_has_role('dd0c_sweeper', 'dd0c_app', 'MEMBER') THEN
        GRANT dd0c_app TO dd0c_sweeper;
    END IF;
    IF NOT pg_has_role(current_user, 'dd0c_sweeper', 'MEMBER') THEN
        EXECUTE format('GRANT dd0c_sweeper TO %I', current_user);
    END IF;
END
$$;

CREATE INDEX anomalies_unsent ON dd0c.anomalies (updated_at) WHERE revision > notified_revision;

CREATE FUNCTION dd0c.unsent_alerts(p_limit integer DEFAULT 500)
    RETURNS TABLE (tenant_id uuid, anomaly_id uuid, revision integer)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$
    SELECT a.tenant_id, a.id, a.revision FROM dd0c.anomalies a
     WHERE a.revision > a.notified_revision AND a.notify_withheld IS NULL
     ORDER BY a.updated_at, a.id
     LIMIT least(greatest(p_limit, 1), 5000)
$$;
ALTER FUNCTION dd0c.unsent_alerts(integer) OWNER TO dd0c_operator;
REVOKE ALL ON FUNCTION dd0c.unsent_alerts(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.unsent_alerts(integer) TO dd0c_sweeper;
