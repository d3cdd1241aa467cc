-- Priced cost events. (tenant_id, event_id) is the natural idempotency key: the same CloudTrail
-- eventID delivered twice to one tenant is stored once; two tenants never collide.

CREATE TABLE dd0c.cost_events (
    id                     bigserial PRIMARY KEY,
    tenant_id              uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    event_id               text NOT NULL,
    account_id             text NOT NULL,
    region                 text NOT NULL,
    event_time             timestamptz NOT NULL,
    event_source           text NOT NULL,
    event_name             text NOT NULL,
    service                text NOT NULL,
    resource_type          text NOT NULL,
    resource_ids           text[] NOT NULL DEFAULT '{}',
    action                 text NOT NULL CHECK (action IN ('create', 'start', 'modify', 'stop', 'delete')),
    quantity               double precision NOT NULL CHECK (quantity >= 0),
    actor_arn              text,
    actor_name             text NOT NULL,
    estimated_usd_per_hour double precision,    -- signed change in spend rate
    price_unknown          boolean NOT NULL DEFAULT false,
    attributes             jsonb NOT NULL DEFAULT '{}',
    payload                jsonb NOT NULL,      -- the whole CostEvent v1
    scored_at              timestamptz,         -- set once by the scorer: each event updates state once
    created_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cost_events_once_per_tenant UNIQUE (tenant_id, event_id)
);
CREATE INDEX cost_events_tenant_time ON dd0c.cost_events (tenant_id, event_time);
CREATE INDEX cost_events_resource_ids ON dd0c.cost_events USING gin (resource_ids);

SELECT dd0c.protect_tenant_table('dd0c.cost_events');
GRANT SELECT, DELETE ON dd0c.cost_events TO dd0c_operator;

GRANT SELECT, INSERT, UPDATE (scored_at) ON dd0c.cost_events TO dd0c_app;
GRANT USAGE ON SEQUENCE dd0c.cost_events_id_seq TO dd0c_app;
