-- Issue 12: usage-driven spend (dd0c_cost/usage/). A scheduled poller reads each connected
-- account's billing series (CloudWatch AWS/Billing EstimatedCharges by ServiceName; Cost Explorer
-- hourly where the tenant enables it), turns them into spend rates and runs the streaming
-- detector per series. Every table is a tenant table (forced RLS, decision 13).

-- Per-tenant usage settings; no row = the defaults below.
CREATE TABLE dd0c.usage_settings (
    tenant_id                 uuid PRIMARY KEY REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    enabled                   boolean NOT NULL DEFAULT true,
    cost_explorer             boolean NOT NULL DEFAULT false,      -- $0.01 a call: opt in
    ce_monthly_call_cap       integer NOT NULL DEFAULT 1000 CHECK (ce_monthly_call_cap >= 0),
    alert_score               double precision NOT NULL DEFAULT 0.5 CHECK (alert_score > 0 AND alert_score <= 1),
    alert_floor_usd_per_hour  double precision NOT NULL DEFAULT 1.0 CHECK (alert_floor_usd_per_hour >= 0),
    updated_by                text,
    updated_at                timestamptz NOT NULL DEFAULT now()
);

-- One spend series: (account, source, service). The cursor (last sample read, its cumulative
-- value and currency) and the detector's state; rewritten once per poll, under FOR UPDATE.
CREATE TABLE dd0c.usage_series (
    tenant_id          uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    account_id         text NOT NULL,
    source             text NOT NULL CHECK (source IN ('cloudwatch', 'cost_explorer')),
    service            text NOT NULL,
    currency           text,
    last_at            timestamptz,                    -- event time of the newest sample consumed
    last_cumulative    double precision,               -- its month-to-date value (cloudwatch)
    rate_per_hour      double precision,               -- the newest rate
    baseline_per_hour  double precision,               -- the detector's baseline before it
    detector           jsonb,                          -- StreamingDetector.to_state()
    points             bigint NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, account_id, source, service)
);
ALTER TABLE dd0c.usage_series ALTER COLUMN detector SET STORAGE MAIN;

-- Every sample turned into a rate, keyed by its natural key (tenant, account, source, service,
-- hour): a redelivered or overlapping poll inserts nothing twice. kind says how the sample was
-- handled (rate: scored; first, gap, reset, correction, currency_change: explained, not scored).
CREATE TABLE dd0c.usage_points (
    tenant_id       uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    account_id      text NOT NULL,
    source          text NOT NULL CHECK (source IN ('cloudwatch', 'cost_explorer')),
    service         text NOT NULL,
    at              timestamptz NOT NULL,              -- event time (the sample's hour)
    currency        text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('rate', 'first', 'gap', 'reset', 'correction', 'currency_change')),
    cumulative      double precision,
    hours           double precision,
    rate_per_hour   double precision,
    score           double precision CHECK (score IS NULL OR score BETWEEN 0 AND 1),
    note            text,
    PRIMARY KEY (tenant_id, account_id, source, service, at)
);

-- Paid API calls (Cost Explorer) per tenant and month, counted before each call and capped.
CREATE TABLE dd0c.usage_api_calls (
    tenant_id  uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    month      date NOT NULL,
    api        text NOT NULL,
    calls      integer NOT NULL DEFAULT 0 CHECK (calls >= 0),
    refused    integer NOT NULL DEFAULT 0 CHECK (refused >= 0),
    PRIMARY KEY (tenant_id, month, api)
);

-- Every poll of one account: what it read, what it could not, and why (denied, throttled).
CREATE TABLE dd0c.usage_polls (
    tenant_id    uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    account_id   text NOT NULL,
    hour         timestamptz NOT NULL,                -- the schedule's event time, to the hour
    status       text NOT NULL,
    samples      integer NOT NULL DEFAULT 0,
    anomalies    integer NOT NULL DEFAULT 0,
    detail       jsonb NOT NULL DEFAULT '{}',
    polled_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, account_id, hour)
);

SELECT dd0c.protect_tenant_table('dd0c.usage_settings');
SELECT dd0c.protect_tenant_table('dd0c.usage_series');
SELECT dd0c.protect_tenant_table('dd0c.usage_points');
SELECT dd0c.protect_tenant_table('dd0c.usage_api_calls');
SELECT dd0c.protect_tenant_table('dd0c.usage_polls');

GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.usage_settings TO dd0c_operator;
GRANT SELECT, DELETE ON dd0c.usage_series, dd0c.usage_points, dd0c.usage_api_calls, dd0c.usage_polls TO dd0c_operator;
GRANT SELECT, INSERT, UPDATE ON dd0c.usage_settings, dd0c.usage_series, dd0c.usage_api_calls, dd0c.usage_polls
    TO dd0c_app;
GRANT SELECT, INSERT ON dd0c.usage_points TO dd0c_app;
GRANT SELECT (external_id) ON dd0c.connected_accounts TO dd0c_app;

-- The schedule's fan-out: every approved account (with an ExternalId) of every tenant whose usage
-- polling is on. A narrow SECURITY DEFINER door like tenant_for_account: it returns the
-- (tenant, account) pairs and nothing else; the poller reads the ExternalId inside the tenant's
-- own transaction, under RLS.
CREATE FUNCTION dd0c.usage_poll_targets() RETURNS TABLE (tenant_id uuid, account_id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$
    SELECT c.tenant_id, c.account_id
      FROM dd0c.connected_accounts c
      LEFT JOIN dd0c.usage_settings s ON s.tenant_id = c.tenant_id
     WHERE c.approved_at IS NOT NULL AND c.external_id IS NOT NULL AND coalesce(s.enabled, true)
     ORDER BY c.tenant_id, c.account_id
$$;
ALTER FUNCTION dd0c.usage_poll_targets() OWNER TO dd0c_operator;
REVOKE ALL ON FUNCTION dd0c.usage_poll_targets() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.usage_poll_targets() TO dd0c_app;
