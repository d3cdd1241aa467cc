"""What the topology is made of: queues, functions, routes, event rules, bucket triggers,
schedules and runtime database roles, as frozen specs (``topology.TOPOLOGY`` lists them). Pure data."""

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
