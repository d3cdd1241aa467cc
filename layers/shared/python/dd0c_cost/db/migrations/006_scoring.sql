-- Composite anomaly scorer: series level and weight beside the Welford columns, the tenant-wide
-- baseline, per-tenant alert settings, feedback rules, and the score of every cost event.
-- Every new table: RLS enabled and FORCEd, tenant_isolation + operator_access, grants to dd0c_app.

-- Series (tenant, account:resource_type): n/mean/m2 are the time-weighted Welford statistics of the
-- series' spend-rate level; weight is their total (decayed) weight in hours; state holds the compact
-- JSON the components need (seasonal profile, open bursts, burst statistics), version 2.
ALTER TABLE dd0c.spend_baselines
    ADD COLUMN weight              double precision NOT NULL DEFAULT 0 CHECK (weight >= 0),
    ADD COLUMN level_usd_per_hour  double precision NOT NULL DEFAULT 0 CHECK (level_usd_per_hour >= 0);

-- The tenant's total spend-rate level, its statistics and what it has seen (novelty sets).
CREATE TABLE dd0c.tenant_baselines (
    tenant_id           uuid PRIMARY KEY REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    n                   bigint NOT NULL DEFAULT 0 CHECK (n >= 0),
    mean                double precision NOT NULL DEFAULT 0,
    m2                  double precision NOT NULL DEFAULT 0 CHECK (m2 >= 0),
    weight              double precision NOT NULL DEFAULT 0 CHECK (weight >= 0),
    level_usd_per_hour  double precision NOT NULL DEFAULT 0 CHECK (level_usd_per_hour >= 0),
    first_event_at      timestamptz,
    last_event_at       timestamptz,
    state               jsonb NOT NULL DEFAULT '{}'
);

-- Per-tenant overrides of the alert gate and cold-start rules; NULL = the default.
CREATE TABLE dd0c.tenant_settings (
    tenant_id                 uuid PRIMARY KEY REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    alert_floor_usd_per_hour  double precision CHECK (alert_floor_usd_per_hour >= 0),
    score_threshold           double precision CHECK (score_threshold > 0 AND score_threshold <= 1),
    cold_start_days           double precision CHECK (cold_start_days >= 0 AND cold_start_days <= 90),
    cold_start_usd_per_hour   double precision CHECK (cold_start_usd_per_hour >= 0),
    cold_start_resources      double precision CHECK (cold_start_resources >= 0),
    burst_gap_s               double precision CHECK (burst_gap_s > 0 AND burst_gap_s <= 21600),
    updated_by                text,
    updated_at                timestamptz NOT NULL DEFAULT now()
);

-- "Expected" / "false positive" feedback: one rule per anomaly, matched by the scorer.
CREATE TABLE dd0c.scoring_feedback (
    anomaly_id     uuid PRIMARY KEY REFERENCES dd0c.anomalies(id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    status         text NOT NULL CHECK (status IN ('expected', 'false_positive')),
    account_id     text NOT NULL,
    resource_type  text NOT NULL,
    actor_key      text NOT NULL,
    region         text NOT NULL,
    families       text[] NOT NULL DEFAULT '{}',
    hourly_usd     double precision NOT NULL CHECK (hourly_usd >= 0),
    event_time     timestamptz NOT NULL,        -- event time of the anomaly, never wall time
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scoring_feedback_series ON dd0c.scoring_feedback (tenant_id, account_id, resource_type, event_time DESC);

-- What the scorer said about every cost event (NULL: ignored, e.g. no price), for "why (not)?".
ALTER TABLE dd0c.cost_events
    ADD COLUMN score             double precision CHECK (score IS NULL OR score BETWEEN 0 AND 1),
    ADD COLUMN score_components  jsonb;

ALTER TABLE dd0c.tenant_baselines ENABLE ROW LEVEL SECURITY;
ALTER TABLE dd0c.tenant_baselines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dd0c.tenant_baselines
    USING (tenant_id = dd0c.current_tenant()) WITH CHECK (tenant_id = dd0c.current_tenant());
CREATE POLICY operator_access ON dd0c.tenant_baselines TO dd0c_operator USING (true) WITH CHECK (true);

ALTER TABLE dd0c.tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE dd0c.tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dd0c.tenant_settings
    USING (tenant_id = dd0c.current_tenant()) WITH CHECK (tenant_id = dd0c.current_tenant());
CREATE POLICY operator_access ON dd0c.tenant_settings TO dd0c_operator USING (true) WITH CHECK (true);

ALTER TABLE dd0c.scoring_feedback ENABLE ROW LEVEL SECURITY;
ALTER TABLE dd0c.scoring_feedback FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dd0c.scoring_feedback
    USING (tenant_id = dd0c.current_tenant()) WITH CHECK (tenant_id = dd0c.current_tenant());
CREATE POLICY operator_access ON dd0c.scoring_feedback TO dd0c_operator USING (true) WITH CHECK (true);

GRANT SELECT, DELETE ON dd0c.tenant_baselines TO dd0c_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.tenant_settings TO dd0c_operator;
GRANT SELECT, DELETE ON dd0c.scoring_feedback TO dd0c_operator;

GRANT SELECT, INSERT, UPDATE ON dd0c.tenant_baselines TO dd0c_app;
GRANT SELECT, INSERT, UPDATE ON dd0c.tenant_settings TO dd0c_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.scoring_feedback TO dd0c_app;
GRANT UPDATE (score, score_components) ON dd0c.cost_events TO dd0c_app;
