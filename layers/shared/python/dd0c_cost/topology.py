"""The pipeline's topology, declared once.

Both the CDK app (``cdk/``) and the local runner (``dd0c_cost_tools.local``) read this module,
so the deployed system and the one a developer runs on a laptop cannot drift apart.
Pure data: no I/O, no AWS calls, no environment reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QueueSpec:
    """An SQS FIFO queue with its dead-letter queue."""

    name: str  # logical name; the physical name is f"{prefix}-{name}.fifo"
    purpose: str
    message_group: str  # what the MessageGroupId is (documentation + used by producers)
    deduplication: str  # what the MessageDeduplicationId is
    max_receive_count: int = 3  # deliveries before a message is moved to the DLQ
    visibility_timeout_s: int = 60  # must be >= 6x the consumer's timeout per AWS guidance; checked in tests
    dlq_alarm_threshold: int = 1  # messages visible in the DLQ that raise the alarm

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: one concern, one thin handler under ``functions/<name>/``."""

    name: str
    purpose: str
    handler: str = "handler.handler"  # module.attribute inside functions/<name>/
    source_queue: str | None = None  # QueueSpec.name it consumes (SQS event source)
    output_queues: tuple[str, ...] = ()  # QueueSpec.names it sends to
    batch_size: int = 10
    timeout_s: int = 10
    memory_mb: int = 512
    needs_database: bool = True
    # Gets the admin (schema owner) database secret as well: only what changes the schema.
    needs_admin_database: bool = False
    # Run by the deployment itself (CDK trigger) after the database exists and before every other
    # function is updated; exactly one function may say so.
    runs_on_deploy: bool = False
    # The database role its login is a member of (migration 008): dd0c_app, or one of
    # DATABASE_ROLES for the one stage that needs that role's cross-tenant door.
    database_role: str = "dd0c_app"
    # The operator's door to the deployed database (``dd0c-cost --stack NAME``): invoked with
    # lambda:Invoke only; the stack outputs its name. At most one function may say so.
    operator_entrypoint: bool = False
    needs_slack: bool = False
    # Tenants' sealed secrets (Slack bot tokens, ticket credentials): "decrypt" opens them,
    # "encrypt_decrypt" also seals new ones (dd0c_cost.crypto; the stack's KMS key).
    kms_access: str = "none"
    needs_onboarding: bool = False  # gets the central bus ARN and dd0c account id (POST /v1/accounts)
    reserved_concurrency: int | None = None
    # May send deterministic rejects (with their reason) straight to the ingest DLQ, whose URL
    # it gets as REJECTS_QUEUE_URL: rejected data is kept, never dropped, and skips the retries.
    sends_rejects: bool = False
    # May assume the customers' read-only role (onboarding.READER_ROLE_NAME) in any account,
    # with each account's ExternalId (the zombie hunter).
    assumes_reader_role: bool = False
    # May assume the customers' opt-in remediation role (onboarding.REMEDIATOR_ROLE_NAME), with
    # each account's ExternalId: only what a person confirmed in Slack.
    assumes_remediation_role: bool = False
    # BucketTriggerSpec.names whose CloudTrail log files it may read (the history import).
    reads_buckets: tuple[str, ...] = ()
    # Asks the deployment's OpenAI-compatible model for explanations (DD0C_LLM_*).
    explains: bool = False


@dataclass(frozen=True)
class RouteSpec:
    """An HTTP API route served by a function."""

    method: str
    path: str
    function: str
    auth: str  # "api_key" (tenant API key or console session: the Lambda authorizer), "slack_signature",
    #            "sign_in" (the API key is in the body), "oauth_state" (a one-time Slack install state),
    #            "static" (console files) or "none"
    purpose: str
    in_openapi: bool = True  # static console and viewer files are not API operations


@dataclass(frozen=True)
class EventRuleSpec:
    """An EventBridge rule on the central bus that targets a queue."""

    name: str
    detail_types: tuple[str, ...]
    target_queue: str
    message_group_path: str  # JSONPath into the event for the SQS MessageGroupId
    purpose: str
    # Match only the event catalogue's (eventSource, eventName)s, so the bus forwards nothing we
    # cannot price (one EventBridge rule per pattern chunk: patterns are limited to 2,048 chars).
    catalogue_only: bool = True


@dataclass(frozen=True)
class BucketTriggerSpec:
    """An S3 bucket whose ObjectCreated notifications invoke a function (asynchronously).

    The bucket belongs to the stack; its physical name is derived from the name prefix, this
    name, the account and the region (see the CDK). Only keys under ``prefix`` ending in
    ``suffix`` invoke the function. An invocation that still fails after ``retry_attempts``
    retries (or is older than ``max_event_age_s``) goes to the function's failure queue.
    """

    name: str
    function: str  # FunctionSpec.name invoked for each ObjectCreated notification
    purpose: str
    prefix: str = ""
    suffix: str = ""
    retry_attempts: int = 2  # Lambda async retries (0-2)
    max_event_age_s: int = 6 * 3600  # Lambda async maximum event age (60 s - 6 h)
    expire_after_days: int = 90  # lifecycle: objects are deleted after this many days


@dataclass(frozen=True)
class DatabaseRoleSpec:
    """A runtime database role beyond ``dd0c_app``: ``dd0c_app`` plus one cross-tenant door (a
    SECURITY DEFINER function granted to it alone). Exactly one function logs in as a member of it,
    with a login and secret of its own; no other login is a member (issue 7: isolation in depth)."""

    role: str  # created by a migration
    login: str  # the LOGIN role in AWS, made a member of ``role`` by the migrate function
    door: str  # the function(s) it adds to dd0c_app
    migration: str

    @property
    def short(self) -> str:
        return self.role.removeprefix("dd0c_")

    @property
    def secret_env(self) -> str:
        """The migrate function's environment variable carrying the login's secret ARN."""
        return f"DATABASE_{self.short.upper()}_SECRET_ARN"


DATABASE_ROLES: tuple[DatabaseRoleSpec, ...] = (
    DatabaseRoleSpec("dd0c_normalizer", "dd0c_normalizer_login", "dd0c.tenant_for_account", "008"),
    DatabaseRoleSpec("dd0c_sweeper", "dd0c_sweeper_login", "dd0c.unsent_alerts", "013"),
    DatabaseRoleSpec("dd0c_zombie_fanout", "dd0c_zombie_fanout_login", "dd0c.zombie_scan_targets", "019"),
    DatabaseRoleSpec("dd0c_usage_fanout", "dd0c_usage_fanout_login", "dd0c.usage_poll_targets", "019"),
    DatabaseRoleSpec("dd0c_slack_events", "dd0c_slack_events_login", "dd0c.disable_slack_workspace", "019"),
    DatabaseRoleSpec("dd0c_digest", "dd0c_digest_login", "dd0c.all_tenant_ids", "019"),
)


def database_role(role: str) -> DatabaseRoleSpec:
    for spec in DATABASE_ROLES:
        if spec.role == role:
            return spec
    raise KeyError(f"no runtime database role {role!r}")


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge schedule that invokes a function (asynchronously) with
    ``{"kind": kind, "time": <the event's time>}``; the event time is the work's natural key."""

    name: str
    expression: str  # EventBridge schedule expression, e.g. "cron(0 5 * * ? *)"
    function: str  # FunctionSpec.name invoked
    kind: str
    purpose: str
    retry_attempts: int = 2  # Lambda async retries (0-2), then the failure queue (alarmed)
    max_event_age_s: int = 3600


@dataclass(frozen=True)
class Topology:
    bus_name: str
    queues: tuple[QueueSpec, ...]
    functions: tuple[FunctionSpec, ...]
    routes: tuple[RouteSpec, ...]
    rules: tuple[EventRuleSpec, ...]
    bucket_triggers: tuple[BucketTriggerSpec, ...] = ()
    schedules: tuple[ScheduleSpec, ...] = ()
    api_function: str = "api"
    extra: dict = field(default_factory=dict)

    def queue(self, name: str) -> QueueSpec:
        for q in self.queues:
            if q.name == name:
                return q
        raise KeyError(f"no queue named {name!r} in the topology")

    def function(self, name: str) -> FunctionSpec:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(f"no function named {name!r} in the topology")

    def schedule(self, name: str) -> ScheduleSpec:
        for sch in self.schedules:
            if sch.name == name:
                return sch
        raise KeyError(f"no schedule named {name!r} in the topology")

    def bucket_trigger(self, name: str) -> BucketTriggerSpec:
        for b in self.bucket_triggers:
            if b.name == name:
                return b
        raise KeyError(f"no bucket trigger named {name!r} in the topology")

    def deploy_function(self) -> FunctionSpec:
        """The one function the deployment runs (``runs_on_deploy``): the migrations."""
        (spec,) = (f for f in self.functions if f.runs_on_deploy)
        return spec

    def operator_function(self) -> FunctionSpec:
        """The function ``dd0c-cost --stack NAME`` invokes (``operator_entrypoint``)."""
        (spec,) = (f for f in self.functions if f.operator_entrypoint)
        return spec

    def consumer_of(self, queue_name: str) -> FunctionSpec:
        for f in self.functions:
            if f.source_queue == queue_name:
                return f
        raise KeyError(f"no function consumes {queue_name!r}")


INGEST = "ingest"
COST_EVENTS = "cost-events"
NOTIFY = "notify"
ZOMBIES = "zombies"
USAGE = "usage"
HISTORY = "history"
SIZING = "sizing"
S3_INGEST = "s3_ingest"
HISTORY_IMPORT = "history_import"
ZOMBIE_FANOUT = "zombie_fanout"
SLACK_EVENTS = "slack_events"
ZOMBIE_HUNTER = "zombie_hunter"
USAGE_FANOUT = "usage_fanout"
USAGE_POLL = "usage_poll"
TICKETS = "tickets"
REMEDIATIONS = "remediations"

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


def physical_queue_name(prefix: str, queue_name: str, *, dlq: bool = False) -> str:
    """FIFO queue names must end in ``.fifo``; one rule for CDK and the local runner."""
    base = f"{prefix}-{queue_name}-dlq" if dlq else f"{prefix}-{queue_name}"
    return f"{base}.fifo"


def queue_url_env_var(queue_name: str) -> str:
    """The environment variable that carries a queue's URL to the functions that send to it."""
    return "QUEUE_URL_" + queue_name.upper().replace("-", "_")
