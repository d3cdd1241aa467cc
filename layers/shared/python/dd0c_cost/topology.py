"""The pipeline's topology, declared once.

Both the CDK app (``cdk/``) and the local runner (``dd0c_cost_tools.local``) read this module,
so the deployed system and the one a developer runs on a laptop cannot drift apart.
Pure data: no I/O, no AWS calls, no environment reads.
"""

from __future__ import annotations

from dd0c_cost.topology_names import (
    COST_EVENTS,
    HISTORY,
    HISTORY_IMPORT,
    INGEST,
    NOTIFY,
    QUEUE_NAMES,
    REMEDIATIONS,
    S3_INGEST,
    SIZING,
    SLACK_EVENTS,
    TICKETS,
    USAGE,
    USAGE_FANOUT,
    USAGE_POLL,
    ZOMBIE_FANOUT,
    ZOMBIE_HUNTER,
    ZOMBIES,
    physical_queue_name,
    queue_url_env_var,
)
from dd0c_cost.topology_specs import (
    DATABASE_ROLES,
    BucketTriggerSpec,
    DatabaseRoleSpec,
    EventRuleSpec,
    FunctionSpec,
    QueueSpec,
    RouteSpec,
    ScheduleSpec,
    Topology,
    database_role,
)

# The names (``topology_names``) and the specs (``topology_specs``) are importable from here, as
# the CDK app, the local runner and the tests do; the runtime imports the names from their module.
__all__ = [
    "COST_EVENTS",
    "DATABASE_ROLES",
    "HISTORY",
    "HISTORY_IMPORT",
    "INGEST",
    "NOTIFY",
    "QUEUE_NAMES",
    "REMEDIATIONS",
    "S3_INGEST",
    "SIZING",
    "SLACK_EVENTS",
    "TICKETS",
    "TOPOLOGY",
    "USAGE",
    "USAGE_FANOUT",
    "USAGE_POLL",
    "ZOMBIES",
    "ZOMBIE_FANOUT",
    "ZOMBIE_HUNTER",
    "BucketTriggerSpec",
    "DatabaseRoleSpec",
    "EventRuleSpec",
    "FunctionSpec",
    "QueueSpec",
    "RouteSpec",
    "ScheduleSpec",
    "Topology",
    "database_role",
    "physical_queue_name",
    "queue_url_env_var",
]

TOPOLOGY = Topology(
    bus_name="dd0c-cost",
    queues=(
        QueueSpec(
            name=INGEST,
            purpose="CloudTrail records and EventBridge envelopes waiting to be normalised",
            message_group="source AWS account id",
            # The database's unique eventID is the real duplicate check; these only stop resends.
            deduplication="EventBridge: CloudTrail eventID; API: tenant + message; S3: digest of (object key, record index)",
        ),
        QueueSpec(
            name=COST_EVENTS,
            purpose="priced cost events waiting to be scored",
            message_group="spend series (tenant, account, service) so one series is scored in order",
            deduplication="tenant + CloudTrail eventID",
        ),
        QueueSpec(
            name=NOTIFY,
            purpose="anomalies waiting to be posted to Slack",
            message_group="tenant",
            deduplication="anomaly id + revision",
            visibility_timeout_s=90,  # 6x notify's 15 s (post, explanation deadline, update)
        ),
        QueueSpec(
            name=ZOMBIES,
            purpose="zombie scans (one customer account and region) and weekly zombie digests (one tenant)",
            message_group="account:region for scans (the customer's API limits are per account and region), digest:tenant",
            deduplication="kind + tenant + account + region + the schedule's event time",
            # The hunter's timeout is 300 s: 6x that before a message is retried (a throttled
            # scan is raised back to the queue on purpose and retried after this long).
            visibility_timeout_s=1800,
        ),
        QueueSpec(
            name=USAGE,
            purpose="connected accounts whose billing series are due to be polled (usage-driven spend)",
            message_group="tenant + account (one poll of an account at a time, in order)",
            deduplication="tenant + account + the schedule's hour",
            visibility_timeout_s=720,  # 6x the poller's 120 s
        ),
        QueueSpec(
            name=SIZING,
            purpose="resources sized before the history began, waiting to be described in the customer's account",
            message_group="account:region (the customer's API limits are per account and region)",
            deduplication="tenant + account + region + resource type + the resource ids (the request's natural key)",
            max_receive_count=5,  # a throttled describe is retried after the visibility timeout
            visibility_timeout_s=360,  # 6x the sizing function's 60 s
        ),
        QueueSpec(
            name=TICKETS,
            purpose="tickets asked for in Slack, waiting to be created in Jira, GitHub or a webhook",
            message_group="ticket id (a ticket waiting out its backoff holds back no other)",
            deduplication="ticket id + the time it was (re)requested",
            max_receive_count=4,  # then parked in the DLQ, the ticket marked failed
            visibility_timeout_s=180,
        ),
        QueueSpec(
            name=REMEDIATIONS,
            purpose="remediations confirmed in Slack, waiting to run in the customer's account",
            message_group="remediation id",
            deduplication="remediation id",
            max_receive_count=10,  # a snapshot or a NAT deletion may take a few rounds
            visibility_timeout_s=360,
        ),
        QueueSpec(
            name=HISTORY,
            purpose="chunks of a tenant's CloudTrail log files to import through the bulk path (backfill)",
            message_group="tenant (a tenant's history is imported in time order, one chunk at a time)",
            deduplication="tenant + digest of the chunk's keys",
            # A chunk takes up to the function's 900 s: 6x that before a message is retried.
            visibility_timeout_s=5400,
        ),
    ),
    functions=(
        FunctionSpec(
            name="normalize",
            purpose="parse, validate, price and persist CloudTrail records as cost events",
            source_queue=INGEST,
            output_queues=(COST_EVENTS, SIZING),
            sends_rejects=True,
            database_role="dd0c_normalizer",
        ),
        FunctionSpec(
            name=SIZING,
            purpose="describe resources sized before the history began through the account's dd0c-reader role "
            "(batched per account, region and type), cache the answers, re-price the waiting cost events",
            source_queue=SIZING,
            output_queues=(COST_EVENTS,),
            assumes_reader_role=True,
            timeout_s=60,
        ),
        FunctionSpec(
            name="score",
            purpose="update spend baselines and raise anomalies",
            source_queue=COST_EVENTS,
            output_queues=(NOTIFY,),
        ),
        FunctionSpec(
            name="notify",
            purpose="post anomalies to Slack with action buttons",
            source_queue=NOTIFY,
            needs_slack=True,
            kms_access="decrypt",
            explains=True,
            timeout_s=15,  # a Slack post, the explanation's 2 s deadline, a Slack update
        ),
        FunctionSpec(
            name="notify_sweep",
            purpose="every 5 minutes, put anomaly revisions not yet posted back on the notify queue",
            output_queues=(NOTIFY,),
            database_role="dd0c_sweeper",
            timeout_s=60,
            batch_size=0,
        ),
        FunctionSpec(
            name="migrate",
            purpose="apply the numbered SQL migrations; run by CDK on every deploy",
            needs_admin_database=True,
            runs_on_deploy=True,
            timeout_s=300,
            batch_size=0,
        ),
        FunctionSpec(
            name="authorizer",
            purpose="Lambda authorizer of the HTTP API: API keys and console sessions (dd0c_cost.auth), cached",
            batch_size=0,
            timeout_s=5,
            memory_mb=256,
        ),
        FunctionSpec(
            name="admin",
            purpose="operator actions on the deployed database (tenants, keys, accounts, migration status) for "
            "`dd0c-cost --stack NAME`; invoked with lambda:Invoke only",
            needs_admin_database=True,
            needs_onboarding=True,
            operator_entrypoint=True,
            timeout_s=60,
            batch_size=0,
        ),
        FunctionSpec(
            name="api",
            purpose="HTTP API: batch ingest, dashboard reads, Slack install and interactions",
            output_queues=(INGEST, NOTIFY, TICKETS, REMEDIATIONS),  # NOTIFY: undelivered alerts sent again
            needs_slack=True,
            kms_access="encrypt_decrypt",
            needs_onboarding=True,
            batch_size=0,
        ),
        FunctionSpec(
            name=SLACK_EVENTS,
            purpose="Slack's signed events (app_uninstalled, tokens_revoked): disable the workspace's installations; "
            "its own function because that crosses tenants (migration 019)",
            needs_slack=True,
            database_role="dd0c_slack_events",
            timeout_s=10,
            batch_size=0,
        ),
        FunctionSpec(
            name=ZOMBIE_FANOUT,
            purpose="on schedule: one zombie-queue message per connected account and region (daily scan) or per tenant (weekly digest)",
            output_queues=(ZOMBIES,),
            database_role="dd0c_zombie_fanout",
            timeout_s=120,
            batch_size=0,
        ),
        FunctionSpec(
            name=ZOMBIE_HUNTER,
            purpose="scan one customer account and region for zombie resources through its dd0c-reader role; post weekly zombie digests",
            source_queue=ZOMBIES,
            needs_slack=True,
            assumes_reader_role=True,
            timeout_s=300,
            memory_mb=1024,
            batch_size=1,  # one scan per invocation: a large region takes minutes
        ),
        FunctionSpec(
            name=USAGE_FANOUT,
            purpose="on schedule: one usage-queue message per connected account whose tenant polls usage",
            output_queues=(USAGE,),
            database_role="dd0c_usage_fanout",
            timeout_s=60,
            batch_size=0,
        ),
        FunctionSpec(
            name=USAGE_POLL,
            purpose="read one account's billing series (CloudWatch, Cost Explorer) through its dd0c-reader role, "
            "score them with the streaming detector and raise usage anomalies",
            source_queue=USAGE,
            output_queues=(NOTIFY,),
            assumes_reader_role=True,
            timeout_s=120,
            batch_size=5,
        ),
        FunctionSpec(
            name=TICKETS,
            purpose="create the tickets asked for in Slack (Jira Cloud, GitHub Issues, signed webhook); answer in the thread",
            source_queue=TICKETS,
            needs_slack=True,
            kms_access="decrypt",
            timeout_s=30,
            batch_size=1,
        ),
        FunctionSpec(
            name="remediate",
            purpose="run the remediations confirmed in Slack through the customer's dd0c-remediator role; answer in the thread",
            source_queue=REMEDIATIONS,
            needs_slack=True,
            kms_access="decrypt",
            assumes_remediation_role=True,
            timeout_s=60,
            batch_size=1,
        ),
        FunctionSpec(
            name="digest",
            purpose="on schedule: each tenant's daily Slack digest (anomalies by status, spend, money saved)",
            needs_slack=True,
            database_role="dd0c_digest",
            kms_access="decrypt",
            timeout_s=300,
            batch_size=0,
        ),
        FunctionSpec(
            name=S3_INGEST,
            purpose="read CloudTrail log files delivered to the log bucket and queue their records for normalisation",
            output_queues=(INGEST,),
            # No database: records from S3 carry no tenant; the normaliser resolves it from the account.
            needs_database=False,
            sends_rejects=True,  # a malformed log object is reported to the ingest DLQ, never dropped
            timeout_s=120,
            memory_mb=1024,  # a log file is parsed whole: up to 64 MB of JSON (ingest_sources.s3)
            batch_size=0,
        ),
        FunctionSpec(
            name=HISTORY_IMPORT,
            purpose="import a chunk of a tenant's CloudTrail log files through the bulk path (dd0c_cost.backfill)",
            source_queue=HISTORY,
            output_queues=(NOTIFY,),
            reads_buckets=("cloudtrail-logs",),
            batch_size=1,  # one chunk per invocation: minutes of work
            timeout_s=900,
            memory_mb=1536,  # the external sort keeps up to 64 MB of records in memory
            database_role="dd0c_normalizer",  # it normalises, so it resolves accounts to tenants too
        ),
    ),
    routes=(
        RouteSpec("POST", "/v1/ingest", "api", "api_key", "batch ingest of CloudTrail records"),
        RouteSpec("GET", "/v1/anomalies", "api", "api_key", "the tenant's anomalies: filters, sort, cursor pagination"),
        RouteSpec("GET", "/v1/anomalies/{anomaly_id}", "api", "api_key", "one anomaly"),
        RouteSpec(
            "GET",
            "/v1/anomalies/{anomaly_id}/detail",
            "api",
            "api_key",
            "one anomaly with its cost events, timeline, links and audit trail",
        ),
        RouteSpec(
            "POST",
            "/v1/anomalies/{anomaly_id}/status",
            "api",
            "api_key",
            "acknowledge, snooze, or mark expected / false positive (feeds the scorer)",
        ),
        RouteSpec(
            "GET", "/v1/zombies", "api", "api_key", "zombie findings: filter by status, verdict, type, account, region"
        ),
        RouteSpec("GET", "/v1/zombies/{finding_id}", "api", "api_key", "one zombie finding with its status history"),
        RouteSpec(
            "POST",
            "/v1/zombies/{finding_id}/status",
            "api",
            "api_key",
            "acknowledge, snooze, ignore, mark remediated or reopen a zombie finding",
        ),
        RouteSpec("GET", "/v1/spend/now", "api", "api_key", "current estimated $/h by service, account or region"),
        RouteSpec("GET", "/v1/spend/series", "api", "api_key", "hourly spend-rate series with the anomalies in range"),
        RouteSpec("GET", "/v1/spend/baselines", "api", "api_key", "baselines per series with their statistics"),
        RouteSpec(
            "GET",
            "/v1/spend/bill",
            "api",
            "api_key",
            "estimate against the bill per account, billing service and day; services whose estimates run off",
        ),
        RouteSpec("GET", "/v1/accounts", "api", "api_key", "connected accounts with event-flow health"),
        RouteSpec(
            "POST",
            "/v1/accounts",
            "api",
            "api_key",
            "ask to connect an AWS account (pending until an operator approves)",
        ),
        RouteSpec("GET", "/v1/summary", "api", "api_key", "open anomalies by severity, spend caught, money saved"),
        RouteSpec("GET", "/v1/governance", "api", "api_key", "mode, rule modes, panic, promotion policy"),
        RouteSpec("POST", "/v1/governance/mode", "api", "api_key", "set the tenant's (or a rule's) mode"),
        RouteSpec(
            "POST",
            "/v1/governance/panic",
            "api",
            "api_key",
            "panic: halt every notification and remediation (or lift it)",
        ),
        RouteSpec("GET", "/v1/settings", "api", "api_key", "scoring thresholds, governance, routing"),
        RouteSpec("PUT", "/v1/settings", "api", "api_key", "change scoring thresholds and the promotion policy"),
        RouteSpec("GET", "/v1/audit", "api", "api_key", "the append-only audit log, newest first"),
        RouteSpec("POST", "/v1/session", "api", "sign_in", "console sign-in: an API key for a session cookie"),
        RouteSpec("GET", "/v1/session", "api", "api_key", "the current session (and its CSRF token)"),
        RouteSpec("DELETE", "/v1/session", "api", "api_key", "sign out"),
        RouteSpec(
            "POST",
            "/slack/interactions",
            "api",
            "slack_signature",
            "Slack button clicks, selects and modal submissions",
        ),
        RouteSpec(
            "POST",
            "/slack/events",
            SLACK_EVENTS,
            "slack_signature",
            "Slack events: app_uninstalled, tokens_revoked",
        ),
        RouteSpec(
            "GET", "/slack/install", "api", "oauth_state", "start installing the Slack app for a tenant (302 to Slack)"
        ),
        RouteSpec(
            "GET",
            "/slack/oauth_redirect",
            "api",
            "oauth_state",
            "Slack's OAuth redirect: save the tenant's installation",
        ),
        RouteSpec("POST", "/v1/slack/install", "api", "api_key", "an install link for the tenant's Slack workspace"),
        RouteSpec("GET", "/v1/tickets/targets", "api", "api_key", "where Create ticket sends tickets"),
        RouteSpec("PUT", "/v1/tickets/targets/{name}", "api", "api_key", "set a ticket target (credential sealed)"),
        RouteSpec("DELETE", "/v1/tickets/targets/{name}", "api", "api_key", "remove a ticket target"),
        RouteSpec(
            "GET", "/v1/remediation", "api", "api_key", "who may remediate from Slack, and the tenant's requests"
        ),
        RouteSpec("PUT", "/v1/remediation", "api", "api_key", "enable remediation for Slack users and user groups"),
        RouteSpec("GET", "/v1/slack", "api", "api_key", "the tenant's Slack installation, delivery and routes"),
        RouteSpec("DELETE", "/v1/slack", "api", "api_key", "forget the tenant's Slack installation"),
        RouteSpec("PUT", "/v1/slack/routes", "api", "api_key", "replace the tenant's Slack routes"),
        RouteSpec("PATCH", "/v1/accounts/{account_id}", "api", "api_key", "name an account (shown in alerts)"),
        RouteSpec("GET", "/health", "api", "none", "liveness"),
        RouteSpec("GET", "/", "api", "static", "the web console", in_openapi=False),
        RouteSpec("GET", "/console/{name}", "api", "static", "the web console's files", in_openapi=False),
        RouteSpec("GET", "/docs", "api", "static", "the API viewer (vendored Swagger UI)", in_openapi=False),
        RouteSpec("GET", "/docs/{name}", "api", "static", "the API viewer's files", in_openapi=False),
        RouteSpec("GET", "/openapi.json", "api", "static", "the OpenAPI document", in_openapi=False),
    ),
    rules=(
        EventRuleSpec(
            name="cloudtrail-cost-events",
            detail_types=("AWS API Call via CloudTrail",),
            target_queue=INGEST,
            message_group_path="$.account",
            purpose="route customer CloudTrail API calls into the ingest queue",
        ),
    ),
    bucket_triggers=(
        BucketTriggerSpec(
            name="cloudtrail-logs",
            function=S3_INGEST,
            purpose="CloudTrail trails of connected accounts deliver their log files here",
            # CloudTrail's layout: AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
            # (digest and Insights files share the prefix and suffix; the function skips them).
            prefix="AWSLogs/",
            suffix=".json.gz",
        ),
    ),
    schedules=(
        ScheduleSpec(
            name="notify-sweep",
            expression="rate(5 minutes)",
            function="notify_sweep",
            kind="sweep",
            purpose="every 5 minutes, anomaly revisions not yet posted to Slack go back on the notify queue",
            max_event_age_s=300,  # the next sweep does the same work
        ),
        ScheduleSpec(
            name="zombie-scan",
            expression="cron(0 5 * * ? *)",
            function=ZOMBIE_FANOUT,
            kind="scan",
            purpose="daily zombie scan of every connected account and region",
        ),
        ScheduleSpec(
            name="slack-digest",
            expression="cron(0 7 * * ? *)",
            function="digest",
            kind="digest",
            purpose="daily Slack digest per tenant: yesterday's anomalies, their spend, money saved",
        ),
        ScheduleSpec(
            name="zombie-digest",
            expression="cron(0 8 ? * MON *)",
            function=ZOMBIE_FANOUT,
            kind="digest",
            purpose="weekly zombie digest per tenant, largest waste first",
        ),
        ScheduleSpec(
            name="usage-poll",
            # five past the hour: the hour's billing samples are published by then
            expression="cron(5 * * * ? *)",
            function=USAGE_FANOUT,
            kind="usage",
            purpose="hourly poll of every connected account's billing series (usage-driven spend)",
        ),
    ),
)
