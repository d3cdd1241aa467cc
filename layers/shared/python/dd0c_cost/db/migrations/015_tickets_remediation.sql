-- Acting from Slack: ticket targets and tickets, remediation settings and requests, LLM
-- explanations, and the daily digest's ledger. Every table is a tenant table (RLS forced).
-- Who did what is written to governance's append-only dd0c.audit_log (migration 012).

-- Where a tenant's tickets go: Jira Cloud, GitHub Issues or a signed webhook. The credential
-- (API token, GitHub token or App key, webhook signing secret) is sealed like Slack tokens
-- (crypto.seal, context {tenant_id, purpose: "ticket_target:<name>"}); config holds the rest.
CREATE TABLE dd0c.ticket_targets (
    tenant_id      uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    kind           text NOT NULL CHECK (kind IN ('jira', 'github', 'webhook')),
    config         jsonb NOT NULL DEFAULT '{}',
    secret_sealed  bytea NOT NULL,
    is_default     boolean NOT NULL DEFAULT false,
    updated_by     text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);
CREATE UNIQUE INDEX ticket_targets_one_default ON dd0c.ticket_targets (tenant_id) WHERE is_default;

-- One ticket per subject (an anomaly, a zombie…): the natural idempotency key. A second click
-- finds it and links it; a redelivered queue message finds it created and stops.
CREATE TABLE dd0c.tickets (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    subject_kind   text NOT NULL CHECK (subject_kind ~ '^[a-z][a-z0-9_]{0,30}$'),
    subject_id     text NOT NULL CHECK (length(subject_id) BETWEEN 1 AND 200),
    target_name    text NOT NULL,
    target_kind    text NOT NULL CHECK (target_kind IN ('jira', 'github', 'webhook')),
    project        text,            -- Jira project key, GitHub owner/repo; NULL for a webhook
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    body           text NOT NULL CHECK (length(body) <= 30000),
    status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'created', 'failed')),
    attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error     text,
    external_key   text,            -- PROJ-123, #42, or what the webhook answered
    external_url   text,
    requested_by   text NOT NULL,   -- Slack user id
    slack_channel  text,            -- the alert's message: results go to its thread
    slack_ts       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, subject_kind, subject_id)
);

-- Who may remediate (dd0c assumes the customer's dd0c-remediator role, with the account's
-- ExternalId). Without a row nobody may: remediation is opt-in twice (here and in the template).
CREATE TABLE dd0c.remediation_settings (
    tenant_id       uuid PRIMARY KEY REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    allowed_users   text[] NOT NULL DEFAULT '{}',   -- Slack user ids (U…/W…)
    allowed_groups  text[] NOT NULL DEFAULT '{}',   -- Slack user group ids (S…)
    updated_by      text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One remediation request: requested (the click) -> confirmed (the dialog) -> running -> succeeded
-- | failed; or refused (a gate said no) / expired (the dialog was never confirmed). At most one
-- open request per (subject, action): double clicks and Slack retries land on the same row.
CREATE TABLE dd0c.remediations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    subject_kind   text NOT NULL,
    subject_id     text NOT NULL,
    action         text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]{0,40}$'),
    account_id     text NOT NULL CHECK (account_id ~ '^[0-9]{12}$'),
    region         text NOT NULL,
    resource_ids   text[] NOT NULL,
    params         jsonb NOT NULL DEFAULT '{}',     -- what the step machine needs (snapshot ids, sizes, …)
    status         text NOT NULL DEFAULT 'requested'
                   CHECK (status IN ('requested', 'confirmed', 'running', 'succeeded', 'failed', 'refused', 'expired')),
    step           text,                            -- the multi-step actions' current step
    requested_by   text NOT NULL,
    confirmed_by   text,
    requested_at   timestamptz NOT NULL DEFAULT now(),   -- wall time: a dialog expires by the clock
    confirmed_at   timestamptz,
    finished_at    timestamptz,
    hourly_usd_saved double precision,              -- the spend it stopped, for the digest
    result         jsonb,
    error          text,
    slack_channel  text,
    slack_ts       text
);
CREATE UNIQUE INDEX remediations_one_open ON dd0c.remediations (tenant_id, subject_kind, subject_id, action)
    WHERE status IN ('requested', 'confirmed', 'running');
CREATE INDEX remediations_tenant_finished ON dd0c.remediations (tenant_id, finished_at);

-- The optional LLM explanation of an anomaly (two or three sentences), or why there is none.
CREATE TABLE dd0c.explanations (
    anomaly_id  uuid PRIMARY KEY REFERENCES dd0c.anomalies(id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('ok', 'timeout', 'error', 'circuit_open')),
    text        text CHECK (length(text) <= 1200),
    model       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The daily digest: one per tenant and (event-time) day, so a retried schedule posts it once.
CREATE TABLE dd0c.digests (
    tenant_id   uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    day         date NOT NULL,
    summary     jsonb NOT NULL,
    delivery    text NOT NULL,
    slack_channel text,
    slack_ts    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, day)
);

SELECT dd0c.protect_tenant_table('dd0c.ticket_targets');
SELECT dd0c.protect_tenant_table('dd0c.tickets');
SELECT dd0c.protect_tenant_table('dd0c.remediation_settings');
SELECT dd0c.protect_tenant_table('dd0c.remediations');
SELECT dd0c.protect_tenant_table('dd0c.explanations');
SELECT dd0c.protect_tenant_table('dd0c.digests');

GRANT SELECT, DELETE ON dd0c.ticket_targets, dd0c.tickets, dd0c.remediations, dd0c.explanations, dd0c.digests
    TO dd0c_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.remediation_settings TO dd0c_operator;

GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.ticket_targets TO dd0c_app;
GRANT SELECT, INSERT, UPDATE ON dd0c.tickets, dd0c.remediations, dd0c.explanations, dd0c.digests TO dd0c_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.remediation_settings TO dd0c_app;

-- The digest schedule runs for every tenant: this door lists tenant ids (nothing else).
CREATE FUNCTION dd0c.all_tenant_ids() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ SELECT id FROM dd0c.tenants ORDER BY id $$;
ALTER FUNCTION dd0c.all_tenant_ids() OWNER TO dd0c_operator;
REVOKE ALL ON FUNCTION dd0c.all_tenant_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.all_tenant_ids() TO dd0c_app;
