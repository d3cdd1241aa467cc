"""Settings read every topology queue's URL from one variable name, and the name of each field's
variable comes from one function the CDK and the local runner also use."""

from __future__ import annotations

import pytest

from dd0c_cost.settings import Settings, env_var
from dd0c_cost.topology import TOPOLOGY, queue_url_env_var


def test_every_topology_queue_url_is_read_from_its_variable(monkeypatch):
    for queue in TOPOLOGY.queues:
        monkeypatch.setenv(queue_url_env_var(queue.name), f"https://sqs.example/{queue.name}.fifo")
    settings = Settings()
    for queue in TOPOLOGY.queues:
        assert settings.queue_url(queue.name) == f"https://sqs.example/{queue.name}.fifo"


def test_a_missing_queue_url_names_the_variable_to_set(monkeypatch):
    name = TOPOLOGY.queues[0].name
    monkeypatch.delenv(queue_url_env_var(name), raising=False)
    with pytest.raises(RuntimeError, match=queue_url_env_var(name)):
        Settings().queue_url(name)


def test_env_var_is_the_alias_or_the_upper_case_field(monkeypatch):
    assert env_var("database_secret_arn") == "DATABASE_SECRET_ARN"
    assert env_var("central_bus_arn") == "DD0C_CENTRAL_BUS_ARN"
    for field in ("database_secret_arn", "central_bus_arn", "rejects_queue_url", "slack_channel"):
        monkeypatch.setenv(env_var(field), "value-from-env")
    settings = Settings()
    assert settings.database_secret_arn == settings.central_bus_arn == "value-from-env"
    assert settings.rejects_queue_url == settings.slack_channel == "value-from-env"


def test_settings_reads_a_url_for_every_queue_of_the_topology():
    from dd0c_cost.topology import TOPOLOGY
    from dd0c_cost.topology_names import QUEUE_NAMES

    assert tuple(q.name for q in TOPOLOGY.queues) == QUEUE_NAMES
