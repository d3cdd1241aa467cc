"""The synthesised dd0c/cost stack, checked against the topology it is built from.

Every expectation below is derived from ``dd0c_cost.topology.TOPOLOGY`` again, independently of
the CDK code, so adding a queue/function/route to the topology is covered automatically.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from dd0c_cost import observability
from dd0c_cost.topology import DATABASE_ROLES, INGEST, TOPOLOGY, physical_queue_name, queue_url_env_var

from .conftest import ALARM_EMAIL, CONNECTED_ACCOUNTS, ORGANIZATION_ID, Synth

PREFIX = TOPOLOGY.bus_name
MIGRATE = "migrate"
CONSUMERS = [f for f in TOPOLOGY.functions if f.source_queue]
WILDCARD_OK_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}


# --- helpers -------------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def queue_ids(synth: Synth, name: str) -> tuple[str, str]:
    pair = synth.stack.queues[name]
    return synth.logical_id(pair.queue), synth.logical_id(pair.dlq)


def function_id(synth: Synth, name: str) -> str:
    return synth.logical_id(synth.stack.functions[name].function)


def role_statements(synth: Synth, function_name: str) -> list[dict[str, Any]]:
    """Every identity-policy statement that applies to the function's execution role."""
    role_id = synth.logical_id(synth.stack.functions[function_name].role)
    role = synth.resources[role_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), f"{function_name}: managed policies on the role"
    statements = [s for p in role.get("Policies", []) for s in as_list(p["PolicyDocument"]["Statement"])]
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if ref(role_id) in policy["Properties"].get("Roles", []):
            statements.extend(as_list(policy["Properties"]["PolicyDocument"]["Statement"]))
    return statements


def resources_for_action(statements: list[dict[str, Any]], action: str) -> list[Any]:
    found = []
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if action in as_list(statement["Action"]):
            found.extend(as_list(statement["Resource"]))
    return found


def find_resource(synth: Synth, cfn_type: str, **properties: Any) -> tuple[str, dict[str, Any]]:
    matches = [
        (k, v)
        for k, v in synth.of_type(cfn_type).items()
        if all(v["Properties"].get(p) == value for p, value in properties.items())
    ]
    assert len(matches) == 1, f"expected one {cfn_type} with {properties}, found {len(matches)}"
    return matches[0]


# --- queues --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", TOPOLOGY.queues, ids=lambda q: q.name)
def test_queue_is_fifo_with_fifo_dlq_and_redrive(synth: Synth, spec) -> None:
    queue_id, queue = find_resource(synth, "AWS::SQS::Queue", QueueName=physical_queue_name(PREFIX, spec.name))
    dlq_id, dlq = find_resource(synth, "AWS::SQS::Queue", QueueName=physical_queue_name(PREFIX, spec.name, dlq=True))
    props, dlq_props = queue["Properties"], dlq["Properties"]
    assert props["FifoQueue"] is True and dlq_props["FifoQueue"] is True
    assert props["ContentBasedDeduplication"] is False
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": arn(dlq_id), "maxReceiveCount": spec.max_receive_count}
    assert props["VisibilityTimeout"] == spec.visibility_timeout_s
    assert props["SqsManagedSseEnabled"] is True and dlq_props["SqsManagedSseEnabled"] is True
    assert "RedrivePolicy" not in dlq_props
    for lid in (queue_id, dlq_id):
        policies = [p for p in synth.of_type("AWS::SQS::QueuePolicy").values() if ref(lid) in p["Properties"]["Queues"]]
        statements = [s for p in policies for s in as_list(p["Properties"]["PolicyDocument"]["Statement"])]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), f"{lid}: SSL not enforced"


@pytest.mark.parametrize("spec", CONSUMERS, ids=lambda f: f.name)
def test_visibility_timeout_is_at_least_six_times_consumer_timeout(synth: Synth, spec) -> None:
    queue_id, _ = queue_ids(synth, spec.source_queue)
    visibility = synth.resources[queue_id]["Properties"]["VisibilityTimeout"]
    timeout = synth.resources[function_id(synth, spec.name)]["Properties"]["Timeout"]
    assert visibility >= 6 * timeout


@pytest.mark.parametrize("spec", TOPOLOGY.queues, ids=lambda q: q.name)
def test_each_dlq_has_an_alarm_to_the_alarm_topic(synth: Synth, spec) -> None:
    _, dlq_id = queue_ids(synth, spec.name)
    topic_id = synth.logical_id(synth.stack.alarms.topic)
    alarms = [
        a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    ]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Threshold"] == spec.dlq_alarm_threshold
    assert alarm["AlarmActions"] == [ref(topic_id)]


def test_alarm_topic_has_the_email_subscription(synth: Synth) -> None:
    find_resource(synth, "AWS::SNS::Subscription", Protocol="email", Endpoint=ALARM_EMAIL)


# --- functions -----------------------------------------------------------------------------


def test_sqs_consumers_report_batch_item_failures(synth: Synth) -> None:
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(CONSUMERS)
    for spec in CONSUMERS:
        queue_id, _ = queue_ids(synth, spec.source_queue)
        _, mapping = find_resource(synth, "AWS::Lambda::EventSourceMapping", EventSourceArn=arn(queue_id))
        props = mapping["Properties"]
        assert props["FunctionName"] == ref(function_id(synth, spec.name))
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BatchSize"] == spec.batch_size


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.name)
def test_function_handler_runtime_layers_and_tracing(synth: Synth, spec) -> None:
    props = synth.resources[function_id(synth, spec.name)]["Properties"]
    layers = synth.stack.layers
    assert props["Handler"] == spec.handler
    assert props["Runtime"] == "python3.11"
    assert props["Architectures"] == ["arm64"]
    assert sorted(props["Layers"], key=json.dumps) == sorted(
        [ref(synth.logical_id(layers.shared)), ref(synth.logical_id(layers.deps))], key=json.dumps
    )
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Timeout"] == spec.timeout_s
    assert props["MemorySize"] == spec.memory_mb
    assert props.get("ReservedConcurrentExecutions") == spec.reserved_concurrency
    log_group = synth.resources[props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert log_group["RetentionInDays"] == 30
    if spec.needs_database:
        subnets = props["VpcConfig"]["SubnetIds"]
        assert subnets and all("functionsSubnet" in s["Ref"] for s in subnets)


def test_layers_share_the_functions_runtime_and_architecture(synth: Synth) -> None:
    for layer in synth.of_type("AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.name)
def test_function_environment(synth: Synth, spec) -> None:
    database = synth.stack.database
    expected: dict[str, Any] = {
        "POWERTOOLS_SERVICE_NAME": observability.service_name(spec.name),
        "POWERTOOLS_METRICS_NAMESPACE": observability.METRICS_NAMESPACE,
        "LOG_LEVEL": "INFO",
        # X-Ray SDK off unless the xraySdk context turns it on (its import costs ~0.8 s per cold start)
        observability.TRACE_DISABLED_ENV: "true",
        # no pydantic plugin look-up (importlib.metadata) on the first model build
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }
    for queue in spec.output_queues:
        expected[queue_url_env_var(queue)] = ref(queue_ids(synth, queue)[0])
    if spec.sends_rejects:
        expected["REJECTS_QUEUE_URL"] = ref(queue_ids(synth, INGEST)[1])
    if spec.needs_database:
        expected["DATABASE_SECRET_ARN"] = ref(synth.logical_id(runtime_secret(database, spec)))
    if spec.needs_admin_database:
        expected["DATABASE_ADMIN_SECRET_ARN"] = ref(synth.logical_id(database.admin_secret))
    if spec.runs_on_deploy:
        for role_spec in DATABASE_ROLES:
            expected[role_spec.secret_env] = ref(synth.logical_id(database.role_secrets[role_spec.role]))
    if spec.needs_slack:
        expected["SLACK_SECRET_ARN"] = ref(synth.logical_id(synth.stack.slack.secret))
        expected["SLACK_CHANNEL"] = "#cost-alerts"
    if spec.kms_access != "none":
        expected["DD0C_KMS_KEY_ID"] = {"Fn::GetAtt": [synth.logical_id(synth.stack.secrets_key.key), "Arn"]}
    if spec.needs_onboarding:
        expected["DD0C_CENTRAL_BUS_ARN"] = {"Fn::GetAtt": [synth.logical_id(synth.stack.ingress.bus), "Arn"]}
        expected["DD0C_ACCOUNT_ID"] = {"Ref": "AWS::AccountId"}
    props = synth.resources[function_id(synth, spec.name)]["Properties"]
    assert props["Environment"]["Variables"] == expected


def test_the_ingest_consumer_sends_rejects() -> None:
    """Deterministic rejects of the normaliser go to the ingest DLQ (REJECTS_QUEUE_URL)."""
    assert TOPOLOGY.consumer_of(INGEST).sends_rejects


def test_every_variable_the_stack_sets_is_one_the_runtime_reads(synth: Synth) -> None:
    """Each environment variable of each function is a Settings field's, a topology queue's URL, or
    Powertools' own: a name typed differently in the CDK would fail here."""
    from dd0c_cost.settings import Settings, env_var

    read = {env_var(name) for name in Settings.model_fields}
    read |= {queue_url_env_var(q.name) for q in TOPOLOGY.queues}
    read |= {spec.secret_env for spec in DATABASE_ROLES}  # read by db.deploy (the migrate function)
    read |= {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL", observability.TRACE_DISABLED_ENV}
    read |= {"PYDANTIC_DISABLE_PLUGINS"}  # pydantic's own (dd0c_cost.COLD_START_ENVIRONMENT)
    for spec in TOPOLOGY.functions:
        variables = synth.resources[function_id(synth, spec.name)]["Properties"]["Environment"]["Variables"]
        assert set(variables) <= read, spec.name


def test_only_the_migrations_and_the_operator_function_get_the_admin_secret(synth: Synth) -> None:
    admins = {TOPOLOGY.deploy_function().name, TOPOLOGY.operator_function().name}
    assert {f.name for f in TOPOLOGY.functions if f.needs_admin_database} == admins == {"migrate", "admin"}
    for spec in TOPOLOGY.functions:
        variables = synth.resources[function_id(synth, spec.name)]["Properties"]["Environment"]["Variables"]
        assert ("DATABASE_ADMIN_SECRET_ARN" in variables) == (spec.name in admins)


def test_the_operator_function_is_reachable_only_through_lambda_invoke(synth: Synth) -> None:
    """No API route, no event source, no resource policy: an IAM principal with
    lambda:InvokeFunction in the account is the only way in; the stack outputs its name."""
    admin = TOPOLOGY.operator_function()
    assert admin.source_queue is None and admin.name not in {r.function for r in TOPOLOGY.routes}
    logical = function_id(synth, admin.name)
    assert not any(
        props["Properties"].get("FunctionName") == {"Fn::GetAtt": [logical, "Arn"]}
        or props["Properties"].get("FunctionName") == {"Ref": logical}
        for props in synth.of_type("AWS::Lambda::EventSourceMapping").values()
    )
    assert not [
        p
        for p in synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] in ({"Ref": logical}, {"Fn::GetAtt": [logical, "Arn"]})
    ]
    outputs = synth.template["Outputs"]
    assert outputs["OperatorFunctionName"]["Value"] == {"Ref": logical}


# --- least privilege -----------------------------------------------------------------------


def test_score_cannot_send_to_the_ingest_queue(synth: Synth) -> None:
    ingest_id, ingest_dlq_id = queue_ids(synth, INGEST)
    sendable = resources_for_action(role_statements(synth, "score"), "sqs:SendMessage")
    assert arn(ingest_id) not in sendable and arn(ingest_dlq_id) not in sendable
    assert "*" not in sendable
    assert sendable == [arn(queue_ids(synth, q)[0]) for q in TOPOLOGY.function("score").output_queues]


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.name)
def test_function_sends_only_to_its_output_queues(synth: Synth, spec) -> None:
    expected = {json.dumps(arn(queue_ids(synth, q)[0])) for q in spec.output_queues}
    if spec.sends_rejects:
        expected.add(json.dumps(arn(queue_ids(synth, INGEST)[1])))
    for trigger in TOPOLOGY.bucket_triggers:
        if trigger.function == spec.name:  # its asynchronous invocations' on-failure destination
            expected.add(json.dumps(arn(synth.logical_id(synth.stack.buckets[trigger.name].failure_queue))))
    if any(s.function == spec.name for s in TOPOLOGY.schedules):  # same, for scheduled invocations
        expected.add(json.dumps(arn(synth.logical_id(synth.stack.schedules.failure_queues[spec.name]))))
    statements = role_statements(synth, spec.name)
    assert {json.dumps(r) for r in resources_for_action(statements, "sqs:SendMessage")} == expected


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.name)
def test_function_consumes_only_its_source_queue(synth: Synth, spec) -> None:
    expected = [arn(queue_ids(synth, spec.source_queue)[0])] if spec.source_queue else []
    statements = role_statements(synth, spec.name)
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert resources_for_action(statements, action) == expected


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.name)
def test_function_reads_only_its_secrets(synth: Synth, spec) -> None:
    database = synth.stack.database
    expected = set()
    if spec.needs_database:
        expected.add(json.dumps(ref(synth.logical_id(runtime_secret(database, spec)))))
    if spec.needs_admin_database:
        expected.add(json.dumps(ref(synth.logical_id(database.admin_secret))))
    if spec.runs_on_deploy:
        for secret in database.role_secrets.values():
            expected.add(json.dumps(ref(synth.logical_id(secret))))
    if spec.needs_slack:
        expected.add(json.dumps(ref(synth.logical_id(synth.stack.slack.secret))))
    readable = resources_for_action(role_statements(synth, spec.name), "secretsmanager:GetSecretValue")
    assert {json.dumps(r) for r in readable} == expected


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.name)
def test_function_uses_the_secrets_key_only_as_its_spec_says(synth: Synth, spec) -> None:
    key = {"Fn::GetAtt": [synth.logical_id(synth.stack.secrets_key.key), "Arn"]}
    statements = role_statements(synth, spec.name)
    decrypt = resources_for_action(statements, "kms:Decrypt")
    seal = resources_for_action(statements, "kms:GenerateDataKey")
    assert decrypt == ([key] if spec.kms_access in ("decrypt", "encrypt_decrypt") else [])
    assert seal == ([key] if spec.kms_access == "encrypt_decrypt" else [])
    assert resources_for_action(statements, "kms:Encrypt") == []


def test_secrets_key_rotates_and_outlives_the_stack(synth: Synth) -> None:
    key = synth.resources[synth.logical_id(synth.stack.secrets_key.key)]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.name)
def test_no_wildcards_except_where_aws_requires_them(synth: Synth, spec) -> None:
    for statement in role_statements(synth, spec.name):
        actions = as_list(statement["Action"])
        assert not any("*" in a for a in actions), statement
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= WILDCARD_OK_ACTIONS, statement
        else:
            assert not any(isinstance(r, str) and "*" in r for r in as_list(statement["Resource"])), statement


# --- event bus -----------------------------------------------------------------------------


def bus_statements(synth: Synth) -> list[dict[str, Any]]:
    bus_id = synth.logical_id(synth.stack.ingress.bus)
    policies = synth.of_type("AWS::Events::EventBusPolicy").values()
    assert all(p["Properties"]["EventBusName"] == ref(bus_id) for p in policies)
    return [p["Properties"]["Statement"] for p in policies]


def principal_accounts(principal: Any) -> list[str]:
    return re.findall(r":iam::(\d{12}):root", json.dumps(principal))


def test_bus_is_named_from_the_topology(synth: Synth) -> None:
    find_resource(synth, "AWS::Events::EventBus", Name=TOPOLOGY.bus_name)


def test_bus_policy_allows_put_events_only_from_configured_accounts_and_org(synth: Synth) -> None:
    bus_arn = arn(synth.logical_id(synth.stack.ingress.bus))
    statements = bus_statements(synth)
    assert len(statements) == 2
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "events:PutEvents"
        assert statement["Resource"] == bus_arn
    by_account = [s for s in statements if s["Principal"] != "*"]
    by_org = [s for s in statements if s["Principal"] == "*"]
    assert len(by_account) == 1 and len(by_org) == 1
    assert sorted(principal_accounts(by_account[0]["Principal"])) == sorted(CONNECTED_ACCOUNTS)
    assert list(by_account[0]["Principal"]) == ["AWS"]
    assert "Condition" not in by_account[0]
    # "*" only ever with the organisation condition: everyone else is implicitly denied.
    assert by_org[0]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID}}


@pytest.mark.parametrize("spec", TOPOLOGY.rules, ids=lambda r: r.name)
def test_rule_routes_through_a_pipe_with_the_topology_message_group(synth: Synth, spec) -> None:
    from dd0c_cost.catalogue import event_patterns

    route = synth.stack.routes.by_name[spec.name]
    landing_id = synth.logical_id(route.landing)
    patterns = []
    for construct in route.rules:
        rule = synth.resources[synth.logical_id(construct)]["Properties"]
        assert rule["EventBusName"] == ref(synth.logical_id(synth.stack.ingress.bus))
        assert rule["EventPattern"]["detail-type"] == list(spec.detail_types)
        # Only AWS-reserved sources: a connected account cannot forge a CloudTrail event.
        assert rule["EventPattern"]["source"] and all(s.startswith("aws.") for s in rule["EventPattern"]["source"])
        (target,) = rule["Targets"]
        assert target["Arn"] == arn(landing_id)
        assert target["DeadLetterConfig"]["Arn"] == arn(synth.logical_id(route.landing_dlq))
        patterns.append(rule["EventPattern"])
    # Exactly the event catalogue: the bus forwards nothing the normaliser cannot price.
    assert spec.catalogue_only and patterns == event_patterns(2048)

    pipe = synth.resources[synth.logical_id(route.pipe)]["Properties"]
    assert pipe["Source"] == arn(landing_id)
    assert pipe["Target"] == arn(queue_ids(synth, spec.target_queue)[0])
    assert pipe["TargetParameters"]["SqsQueueParameters"] == {
        "MessageGroupId": "$.body" + spec.message_group_path[1:],
        "MessageDeduplicationId": "$.body.detail.eventID",
    }
    assert pipe["TargetParameters"]["InputTemplate"] == "<$.body>"

    landing_dlq_id = synth.logical_id(route.landing_dlq)
    assert synth.resources[landing_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == arn(landing_dlq_id)
    assert any(
        a["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [landing_dlq_id, "QueueName"]}}]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
    )


# --- HTTP API ------------------------------------------------------------------------------


def test_routes_match_the_topology_exactly(synth: Synth) -> None:
    routes = synth.of_type("AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == sorted(
        f"{r.method} {r.path}" for r in TOPOLOGY.routes
    )
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    by_key = {r["Properties"]["RouteKey"]: r["Properties"] for r in routes.values()}
    for spec in TOPOLOGY.routes:
        target = by_key[f"{spec.method} {spec.path}"]["Target"]
        integration_id = target["Fn::Join"][1][1]["Ref"]
        uri = integrations[integration_id]["Properties"]["IntegrationUri"]
        assert uri == arn(function_id(synth, spec.function))


def test_credential_routes_go_through_the_lambda_authorizer_and_no_others(synth: Synth) -> None:
    (authorizer_id, authorizer), *rest = synth.of_type("AWS::ApiGatewayV2::Authorizer").items()
    assert rest == []
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "REQUEST" and props["EnableSimpleResponses"] is True
    assert props["AuthorizerPayloadFormatVersion"] == "2.0" and props.get("AuthorizerResultTtlInSeconds", 0) == 0
    assert function_id(synth, "authorizer") in json.dumps(props["AuthorizerUri"])
    for route in synth.of_type("AWS::ApiGatewayV2::Route").values():
        key = route["Properties"]["RouteKey"]
        spec = next(r for r in TOPOLOGY.routes if f"{r.method} {r.path}" == key)
        if spec.auth == "api_key":
            assert route["Properties"]["AuthorizationType"] == "CUSTOM", key
            assert route["Properties"]["AuthorizerId"] == {"Ref": authorizer_id}, key
        else:
            assert route["Properties"].get("AuthorizationType", "NONE") == "NONE", key


def test_api_stage_logs_access_and_throttles(synth: Synth) -> None:
    (stage,) = synth.of_type("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default" and props["AutoDeploy"] is True
    assert "DestinationArn" in props["AccessLogSettings"]
    assert json.loads(props["AccessLogSettings"]["Format"])["requestId"] == "$context.requestId"
    assert props["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50}


# --- database ------------------------------------------------------------------------------


def test_aurora_postgresql_serverless_v2_in_isolated_subnets(synth: Synth) -> None:
    (cluster,) = synth.of_type("AWS::RDS::DBCluster").values()
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-postgresql"
    assert props["EngineVersion"].split(".")[0] in {"15", "16"}
    assert props["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4}
    assert props["StorageEncrypted"] is True
    assert props["DeletionProtection"] is True
    assert props["Port"] == 5432
    (instance,) = synth.of_type("AWS::RDS::DBInstance").values()
    assert instance["Properties"]["DBInstanceClass"] == "db.serverless"
    assert instance["Properties"]["PubliclyAccessible"] is False
    (subnet_group,) = synth.of_type("AWS::RDS::DBSubnetGroup").values()
    subnets = subnet_group["Properties"]["SubnetIds"]
    assert len(subnets) == 2 and all("databaseSubnet" in s["Ref"] for s in subnets)


def runtime_secret(database, spec):
    """The secret of the login a function uses: the normaliser has its own (migration 008)."""
    return database.runtime_secret(spec.database_role)


def test_each_cross_tenant_role_has_exactly_one_function() -> None:
    from dd0c_cost.db.connection import NORMALIZER_ROLE
    from dd0c_cost.notify.digest import DIGEST_ROLE
    from dd0c_cost.notify.events import SLACK_EVENTS_ROLE
    from dd0c_cost.notify.sweep import SWEEPER_ROLE
    from dd0c_cost.usage import poller
    from dd0c_cost.zombies import fanout

    roles = {f.name: f.database_role for f in TOPOLOGY.functions if f.database_role != "dd0c_app"}
    # one function per role, but for the history import: it normalises (the bulk path), so it
    # shares the normaliser's role and login
    assert sorted(r for f, r in roles.items() if f != "history_import") == sorted(spec.role for spec in DATABASE_ROLES)
    # the role each function's code asks for is the one its login is a member of
    assert roles == {
        "normalize": NORMALIZER_ROLE,
        "history_import": NORMALIZER_ROLE,
        "notify_sweep": SWEEPER_ROLE,
        "zombie_fanout": fanout.FANOUT_ROLE,
        "usage_fanout": poller.FANOUT_ROLE,
        "slack_events": SLACK_EVENTS_ROLE,
        "digest": DIGEST_ROLE,
    }


def test_slack_events_reach_their_own_function_only() -> None:
    (route,) = (r for r in TOPOLOGY.routes if r.path == "/slack/events")
    assert route.function == "slack_events"
    assert [r.path for r in TOPOLOGY.routes if r.function == "slack_events"] == ["/slack/events"]


def test_the_sweeper_runs_every_five_minutes(synth: Synth) -> None:
    rule = synth.resources[synth.logical_id(synth.stack.schedules["notify-sweep"].rule)]
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id(synth, "notify_sweep"), "Arn"]}


def test_database_secrets_with_the_expected_logins(synth: Synth) -> None:
    database = synth.stack.database
    for secret, username in (
        (database.admin_secret, "dd0c_admin"),
        (database.app_secret, "dd0c_app_login"),
        *((database.role_secrets[spec.role], spec.login) for spec in DATABASE_ROLES),
    ):
        props = synth.resources[synth.logical_id(secret)]["Properties"]
        template = json.loads(props["GenerateSecretString"]["SecretStringTemplate"])
        assert template == {"username": username, "dbname": "dd0c"}
    attached = {
        json.dumps(a["Properties"]["SecretId"])
        for a in synth.of_type("AWS::SecretsManager::SecretTargetAttachment").values()
    }
    assert json.dumps(ref(synth.logical_id(database.app_secret))) in attached
    for secret in database.role_secrets.values():
        assert json.dumps(ref(synth.logical_id(secret))) in attached
    assert json.dumps(ref(synth.logical_id(database.admin_secret))) in attached


def test_database_is_reachable_only_from_functions_on_5432(synth: Synth) -> None:
    db_sg = synth.logical_id(synth.stack.database.security_group)
    functions_sg = synth.logical_id(synth.stack.network.functions_sg)
    rotation_sgs = {k for k, v in synth.of_type("AWS::EC2::SecurityGroup").items() if "RotationSingleUser" in k}
    db_group = synth.resources[db_sg]["Properties"]
    assert not db_group.get("SecurityGroupIngress")
    ingress = [
        i["Properties"]
        for i in synth.of_type("AWS::EC2::SecurityGroupIngress").values()
        if i["Properties"]["GroupId"] == {"Fn::GetAtt": [db_sg, "GroupId"]}
    ]
    sources = set()
    for rule in ingress:
        assert rule["IpProtocol"] == "tcp"
        assert "CidrIp" not in rule and "CidrIpv6" not in rule
        sources.add(rule["SourceSecurityGroupId"]["Fn::GetAtt"][0])
        if rule["SourceSecurityGroupId"]["Fn::GetAtt"][0] == functions_sg:
            assert rule["FromPort"] == rule["ToPort"] == 5432
    assert functions_sg in sources and sources <= {functions_sg} | rotation_sgs

    functions_group = synth.resources[functions_sg]["Properties"]
    assert not functions_group.get("SecurityGroupIngress")
    assert not [
        i
        for i in synth.of_type("AWS::EC2::SecurityGroupIngress").values()
        if i["Properties"]["GroupId"] == {"Fn::GetAtt": [functions_sg, "GroupId"]}
    ]
    egress = functions_group["SecurityGroupEgress"]
    assert egress == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS: AWS APIs and Slack",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]


def test_migrate_runs_on_deploy_after_the_database_and_before_other_functions(synth: Synth) -> None:
    ((trigger_id, trigger),) = synth.of_type("Custom::Trigger").items()
    version_id = trigger["Properties"]["HandlerArn"]["Ref"]
    version = synth.resources[version_id]["Properties"]
    assert version["FunctionName"] == ref(function_id(synth, MIGRATE))
    assert trigger["Properties"]["InvocationType"] == "RequestResponse"
    assert int(trigger["Properties"]["Timeout"]) >= TOPOLOGY.function(MIGRATE).timeout_s * 1000
    depends_on = set(trigger.get("DependsOn", []))
    database = synth.stack.database
    for construct in (database.cluster, database.app_secret_attachment):
        assert synth.logical_id(construct) in depends_on
    writer = list(synth.of_type("AWS::RDS::DBInstance"))
    assert set(writer) <= depends_on
    for spec in TOPOLOGY.functions:
        if spec.name != MIGRATE:
            assert trigger_id in synth.resources[function_id(synth, spec.name)].get("DependsOn", [])


# --- synthesis hygiene ---------------------------------------------------------------------


def test_cdk_nag_aws_solutions_has_no_unacknowledged_errors(synth: Synth) -> None:
    from aws_cdk.assertions import Annotations, Match
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(synth.stack)
    errors = [
        f"{v.rule_name}: {[r.construct_path for r in v.violating_resources]}"
        for v in report.violations
        if v.severity == "error"
    ]
    assert errors == []
    assert Annotations.from_stack(synth.stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*")) == []
    assert Annotations.from_stack(synth.stack).find_error("*", Match.any_value()) == []


def test_acknowledgements_are_never_stack_wide(synth: Synth) -> None:
    from aws_cdk import Validations

    for construct in (synth.app, synth.stack):
        acknowledged = [
            rule
            for entry in construct.node.metadata
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
            for rule in entry.data
        ]
        # (CDK itself acknowledges a CloudFormation-Validate rule on every stack; fine.)
        assert not [rule for rule in acknowledged if "AwsSolutions" in rule]


def test_no_docker_assets_no_lookups_environment_agnostic(synth: Synth) -> None:
    from aws_cdk import Token

    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    assert not manifest.get("missing"), "synth needed context lookups"
    assets = json.loads((synth.outdir / f"{synth.stack.artifact_id}.assets.json").read_text())
    assert assets.get("dockerImages", {}) == {}
    for asset in assets["files"].values():
        assert "executable" not in asset["source"], "an asset is built by a command"
    assert Token.is_unresolved(synth.stack.account) and Token.is_unresolved(synth.stack.region)
    print(f"\nCDK synth of {synth.stack.stack_name}: {synth.seconds:.1f}s, {len(synth.resources)} resources")


def test_shared_layer_asset_is_the_domain_package_compiled_for_the_runtime(synth: Synth) -> None:
    """Every module ships with unchecked-hash bytecode for the runtime's Python (Lambda cannot
    write .pyc under /opt), nothing else is added, and no other interpreter's cache comes along."""
    from dd0c_cost_cdk.shared_layer import RUNTIME_PYTHON, SOURCE

    layer = synth.resources[synth.logical_id(synth.stack.layers.shared)]["Properties"]
    asset_hash = layer["Content"]["S3Key"].removesuffix(".zip")
    staged = synth.outdir / f"asset.{asset_hash}"
    assert (staged / "python" / "dd0c_cost" / "topology.py").is_file()
    shipped = {p.relative_to(staged) for p in staged.rglob("*") if p.is_file() and p.suffix != ".pyc"}
    sources = {
        p.relative_to(SOURCE)
        for p in SOURCE.rglob("*")
        if p.is_file() and p.suffix != ".pyc" and "__pycache__" not in p.parts and ".egg-info" not in str(p)
    }
    assert shipped == sources
    tag = f"cpython-{RUNTIME_PYTHON[0]}{RUNTIME_PYTHON[1]}"
    pycs = set(staged.rglob("*.pyc"))
    if sys.version_info[:2] != RUNTIME_PYTHON:
        assert not pycs  # synth on another Python ships sources only (and warns)
        return
    modules = [p for p in shipped if p.suffix == ".py"]
    assert pycs == {staged / m.parent / "__pycache__" / f"{m.stem}.{tag}.pyc" for m in modules}
    for pyc in pycs:
        assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01  # hash-based, source not checked


def test_shared_layer_bytecode_is_reproducible(tmp_path: Path) -> None:
    """Two builds of the same sources are byte for byte the same (else every synth would publish a
    new layer version)."""
    from dd0c_cost_cdk.shared_layer import build

    a, b = build(tmp_path / "a"), build(tmp_path / "b")
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert any(p.suffix == ".pyc" for p in files_a) == (sys.version_info[:2] == (3, 11))
    assert all((a / p).read_bytes() == (b / p).read_bytes() for p in files_a)


# --- zombie hunter: schedules and the customers' reader role --------------------------------


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.name)
def test_only_the_hunter_and_remediate_may_assume_roles_and_only_the_customers_own(synth: Synth, spec) -> None:
    from dd0c_cost.onboarding import READER_ROLE_NAME, REMEDIATOR_ROLE_NAME

    assumable = resources_for_action(role_statements(synth, spec.name), "sts:AssumeRole")
    expected = []
    if spec.assumes_reader_role:
        expected.append({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::*:role/{READER_ROLE_NAME}"]]})
    if spec.assumes_remediation_role:
        expected.append({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::*:role/{REMEDIATOR_ROLE_NAME}"]]})
    assert assumable == expected
    assert [f.name for f in TOPOLOGY.functions if f.assumes_remediation_role] == ["remediate"]


@pytest.mark.parametrize("spec", TOPOLOGY.schedules, ids=lambda s: s.name)
def test_schedule_invokes_its_function_with_its_kind_and_the_event_time(synth: Synth, spec) -> None:
    function_id = synth.logical_id(synth.stack.functions[spec.function].function)
    _, rule = find_resource(synth, "AWS::Events::Rule", ScheduleExpression=spec.expression)
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {"time": "$.time"}
    assert json.loads(transformer["InputTemplate"].replace("<time>", '"2026-11-20T05:00:00Z"')) == {
        "kind": spec.kind,
        "time": "2026-11-20T05:00:00Z",
    }
    permissions = [
        p["Properties"]
        for p in synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["SourceArn"]
        == {"Fn::GetAtt": [synth.logical_id(synth.stack.schedules[spec.name].rule), "Arn"]}
    ]
    assert [p["FunctionName"] for p in permissions] == [{"Fn::GetAtt": [function_id, "Arn"]}]


@pytest.mark.parametrize("function", sorted({s.function for s in TOPOLOGY.schedules}))
def test_scheduled_functions_retry_then_fail_to_an_alarmed_queue(synth: Synth, function: str) -> None:
    function_id = synth.logical_id(synth.stack.functions[function].function)
    spec = next(s for s in TOPOLOGY.schedules if s.function == function)
    failure_id = synth.logical_id(synth.stack.schedules.failure_queues[function])
    (config,) = [
        c["Properties"]
        for c in synth.of_type("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert config["MaximumRetryAttempts"] == spec.retry_attempts
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [failure_id, "Arn"]}}}
    assert any(
        a["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [failure_id, "QueueName"]}}]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
    )
