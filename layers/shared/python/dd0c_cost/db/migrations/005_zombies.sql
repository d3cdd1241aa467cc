-- Zombie resources: what the hunter found idle in a connected account, why (criterion and the
-- metric figures), since when, what it wastes, and what people did about it (status + history).
-- Also the record of every scan per account and region (denied / throttled / partial scans are
-- kept and retried later) and of the weekly digests already posted.
--
-- Order: on a database migrated to 006/007 before this file existed, 005 is applied after them
-- (decision 20), so nothing here depends on 006/007: the fan-out reads accounts through
-- dd0c.tenant_for_account (001; 007 makes it ignore unapproved accounts).

CREATE TABLE dd0c.zombie_findings (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    account_id         text NOT NULL CHECK (account_id ~ '^[0-9]{12}$'),
    region             text NOT NULL,
    resource_type      text NOT NULL,
    resource_id        text NOT NULL,
    resource_name      text,
    criterion          text NOT NULL,
    verdict            text NOT NULL CHECK (verdict IN ('zombie', 'idle_suspect', 'insufficient_data')),
    evidence           jsonb NOT NULL DEFAULT '{}',   -- the metric figures and facts the verdict rests on
    first_seen_idle    timestamptz NOT NULL,          -- event/scan time; never moves later while the finding is open
    last_scanned_at    timestamptz NOT NULL,          -- scan time of the newest scan that checked it
    monthly_waste_usd  double precision CHECK (monthly_waste_usd IS NULL OR monthly_waste_usd >= 0),
    waste_so_far_usd   double precision CHECK (waste_so_far_usd IS NULL OR waste_so_far_usd >= 0),
    price_components   jsonb NOT NULL DEFAULT '[]',   -- [{component, quantity, unit, usd_per_month|null, source, reason}]
    unpriced_reason    text,                          -- why (part of) the waste has no price
    owner_kind         text,                          -- cloudformation | autoscaling | kubernetes | ecs: "fix in owner"
    owner_name         text,
    status             text NOT NULL DEFAULT 'open'
                       CHECK (status IN ('open', 'acknowledged', 'snoozed', 'remediated', 'ignored', 'gone', 'in_use')),
    snoozed_until      timestamptz,
    status_changed_by  text,
    status_changed_at  timestamptz,                   -- event/scan time of the last status change
    closed_at          timestamptz,                   -- scan time it closed (gone / in_use), NULL while open
    slack_channel      text,
    slack_ts           text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- The natural key: one finding per resource; a redelivered scan updates it, never duplicates it.
    CONSTRAINT zombie_findings_one_per_resource UNIQUE (tenant_id, account_id, region, resource_type, resource_id)
);
CREATE INDEX zombie_findings_tenant_status ON dd0c.zombie_findings (tenant_id, status, monthly_waste_usd DESC NULLS LAST);

-- Every status change (scan-driven or by a person), append-only.
CREATE TABLE dd0c.zombie_finding_history (
    id            bigserial PRIMARY KEY,
    finding_id    uuid NOT NULL REFERENCES dd0c.zombie_findings(id) ON DELETE CASCADE,
    tenant_id     uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    at            timestamptz NOT NULL,               -- event/scan time
    from_status   text,
    to_status     text NOT NULL,
    verdict       text,
    changed_by    text NOT NULL,                      -- "scan", "tag:dd0c:ignore", a Slack user, an API key ...
    note          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX zombie_finding_history_finding ON dd0c.zombie_finding_history (finding_id, id);

-- One row per (tenant, account, region, scan time): the outcome of each attempt. A redelivered
-- scan message that already completed is a no-op; a denied, throttled or partial one is kept
-- with its errors and retried (by SQS redelivery or the next scheduled scan).
CREATE TABLE dd0c.zombie_scans (
    tenant_id        uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    account_id       text NOT NULL,
    region           text NOT NULL,
    scan_time        timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('complete', 'partial', 'access_denied', 'throttled', 'failed')),
    errors           jsonb NOT NULL DEFAULT '{}',     -- {what: {"kind": access_denied|throttled|error, "detail": ...}}
    attempts         integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    resources        integer NOT NULL DEFAULT 0,
    findings         integer NOT NULL DEFAULT 0,
    metric_queries   integer NOT NULL DEFAULT 0,
    metric_calls     integer NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, account_id, region, scan_time)
);

-- The weekly Slack digest, once per tenant and week.
CREATE TABLE dd0c.zombie_digests (
    tenant_id     uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    week_start    date NOT NULL,
    findings      integer NOT NULL,
    monthly_waste_usd double precision,
    slack_channel text,
    slack_ts      text,
    posted_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, week_start)
);

SELECT dd0c.protect_tenant_table('dd0c.zombie_findings');
SELECT dd0c.protect_tenant_table('dd0c.zombie_finding_history');
SELECT dd0c.protect_tenant_table('dd0c.zombie_scans');
SELECT dd0c.protect_tenant_table('dd0c.zombie_digests');

GRANT SELECT, DELETE ON dd0c.zombie_findings, dd0c.zombie_finding_history, dd0c.zombie_scans, dd0c.zombie_digests TO dd0c_operator;
GRANT SELECT, INSERT, UPDATE ON dd0c.zombie_findings, dd0c.zombie_scans, dd0c.zombie_digests TO dd0c_app;
GRANT SELECT, INSERT ON dd0c.zombie_finding_history TO dd0c_app;
GRANT USAGE ON SEQUENCE dd0c.zombie_finding_history_id_seq TO dd0c_app;

-- The scheduled fan-out's one cross-tenant read: every connected account that resolves to its
-- tenant (approved accounts only, once 007 is applied) with its regions. No ExternalId: the
-- hunter reads that inside the tenant's own transaction.
CREATE FUNCTION dd0c.zombie_scan_targets()
    RETURNS TABLE (tenant_id uuid, account_id text, regions text[])
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ SELECT c.tenant_id, c.account_id, c.regions FROM dd0c.connected_accounts c
          WHERE dd0c.tenant_for_account(c.account_id) = c.tenant_id
          ORDER BY c.tenant_id, c.account_id $$;
ALTER FUNCTION dd0c.zombie_scan_targets() OWNER TO dd0c_operator;
REVOKE ALL ON FUNCTION dd0c.zombie_scan_targets() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.zombie_scan_targets() TO dd0c_app;
