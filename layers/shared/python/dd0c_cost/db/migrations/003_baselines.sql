-- Running statistics per spend series, advanced in event-time order, one row lock per series.

CREATE TABLE dd0c.spend_baselines (
    tenant_id       uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    series_key      text NOT NULL,              -- account:service (tenant is the other key column)
    n               bigint NOT NULL DEFAULT 0 CHECK (n >= 0),
    mean            double precision NOT NULL DEFAULT 0,
    m2              double precision NOT NULL DEFAULT 0 CHECK (m2 >= 0),  -- Welford sum of squares
    first_event_at  timestamptz,
    last_event_at   timestamptz,
    state           jsonb NOT NULL DEFAULT '{}',  -- room for the composite scorer's compact state
    PRIMARY KEY (tenant_id, series_key)
);

SELECT dd0c.protect_tenant_table('dd0c.spend_baselines');
GRANT SELECT, DELETE ON dd0c.spend_baselines TO dd0c_operator;

GRANT SELECT, INSERT, UPDATE ON dd0c.spend_baselines TO dd0c_app;
