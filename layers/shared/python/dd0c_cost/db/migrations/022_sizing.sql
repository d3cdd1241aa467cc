-- Issue 12: sizing from the customer's account (dd0c_cost/sizing/). A stop, start, delete or
-- modify of a resource sized before the history began is unpriced: no earlier event holds its
-- size. The normaliser records what it would need to know (one row per resource, by natural key)
-- and the cost events waiting for it; the sizing function describes the resources in batches
-- through the account's dd0c-reader role, caches the answers here, re-prices the waiting events
-- and sends each re-priced one to the scorer once. Every table is a tenant table (forced RLS).

-- One resource whose size is asked for, and the answer (the cache: later events of the same
-- resource inherit from it in the normaliser, like from an earlier event).
CREATE TABLE dd0c.resource_sizes (
    tenant_id      uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    account_id     text NOT NULL,
    region         text NOT NULL,
    resource_type  text NOT NULL,
    resource_id    text NOT NULL,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sized', 'not_found', 'denied', 'not_connected', 'unknown_region')),
    attributes     jsonb NOT NULL DEFAULT '{}',       -- the priced attributes the account answered
    api            text,                              -- the call that answered, e.g. ec2:DescribeInstances
    attempts       integer NOT NULL DEFAULT 0,        -- describe calls made for it (incl. throttled)
    last_error     text,                              -- denied / throttled: the error code and message
    next_try_at    timestamptz,                       -- throttled: when the queue retries it
    requested_at   timestamptz NOT NULL DEFAULT now(),
    answered_at    timestamptz,
    PRIMARY KEY (tenant_id, account_id, region, resource_type, resource_id)
);
CREATE INDEX resource_sizes_pending ON dd0c.resource_sizes (tenant_id, account_id, region, resource_type)
    WHERE status = 'pending';

-- A cost event waiting for the sizes of its resources: the CloudTrail record is kept so the
-- event is re-priced by the normaliser's own code. sized_event_id: the re-priced event
-- ('<eventID>:sized', a cost event of its own so the scorer's once-only claim holds).
CREATE TABLE dd0c.sizing_waits (
    tenant_id       uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    event_id        text NOT NULL,
    account_id      text NOT NULL,
    region          text NOT NULL,
    resource_type   text NOT NULL,
    resource_ids    text[] NOT NULL,
    record          jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'repriced', 'unsized')),
    sized_event_id  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX sizing_waits_waiting ON dd0c.sizing_waits (tenant_id, account_id, region, resource_type)
    WHERE status = 'waiting';

SELECT dd0c.protect_tenant_table('dd0c.resource_sizes');
SELECT dd0c.protect_tenant_table('dd0c.sizing_waits');

GRANT SELECT, DELETE ON dd0c.resource_sizes, dd0c.sizing_waits TO dd0c_operator;
GRANT SELECT, INSERT, UPDATE ON dd0c.resource_sizes, dd0c.sizing_waits TO dd0c_app;
