-- Anomalies: what the scorer raised, why, and what people did about it.

CREATE TABLE dd0c.anomalies (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id             uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    account_id            text NOT NULL,
    region                text NOT NULL,
    service               text NOT NULL,
    resource_type         text NOT NULL,
    resource_ids          text[] NOT NULL DEFAULT '{}',
    event_ids             text[] NOT NULL,
    actor                 text NOT NULL,
    detected_at           timestamptz NOT NULL,   -- event time, never wall time
    score                 double precision NOT NULL CHECK (score BETWEEN 0 AND 1),
    severity              text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    estimated_hourly_usd  double precision NOT NULL,
    status                text NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'acknowledged', 'snoozed', 'expected', 'false_positive')),
    summary               text NOT NULL,
    components            jsonb NOT NULL DEFAULT '[]',
    attributes            jsonb NOT NULL DEFAULT '{}',
    snoozed_until         timestamptz,
    status_changed_by     text,
    slack_channel         text,
    slack_ts              text,
    notified_revision     integer NOT NULL DEFAULT 0,
    revision              integer NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX anomalies_tenant_detected ON dd0c.anomalies (tenant_id, detected_at DESC);
CREATE INDEX anomalies_event_ids ON dd0c.anomalies USING gin (event_ids);

SELECT dd0c.protect_tenant_table('dd0c.anomalies');
GRANT SELECT, DELETE ON dd0c.anomalies TO dd0c_operator;

GRANT SELECT, INSERT, UPDATE ON dd0c.anomalies TO dd0c_app;
