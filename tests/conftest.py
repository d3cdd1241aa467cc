"""Shared fixtures: a real PostgreSQL started by the tests themselves (tests/pg_fixture.py),
migrated once per session into a template, and the moto-backed local pipeline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_fixture import _url_for, fresh_database, make_database, pg_server  # noqa: F401  (fixtures)

# The Slack end-to-end world (fixtures ``slack_fake`` and ``world``).
pytest_plugins = ["tests.slack_world"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared (read-only data beside the project). Missing data fails loudly."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: these tests need the shared corpora beside the repository (../shared)")
    return path


@pytest.fixture(scope="session")
def migrated_template(pg_server: str) -> str:
    """Name of a database with every migration applied, copied per test (fast)."""
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost_tools.local.embedded_pg import create_database

    name = f"dd0c_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    create_database(_url_for(pg_server, "postgres"), name)
    migrate(_url_for(pg_server, name))
    return name


@pytest.fixture
def db_url(make_database, migrated_template: str) -> Iterator[str]:
    """A freshly migrated database of the test's own (superuser URL, like DATABASE_URL locally)."""
    from dd0c_cost.db.connection import close_connection

    url = make_database(template=migrated_template)
    yield url
    close_connection()


@pytest.fixture
def app_env(db_url: str, tmp_path: Path, monkeypatch) -> Path:
    """Environment for the handlers: this test's database, data dir and outbox; no Slack token."""
    from dd0c_cost.db.connection import close_connection
    from dd0c_cost.notify.slack import reset_notifier
    from dd0c_cost.settings import reset_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DD0C_DATA_DIR", str(tmp_path))
    for var in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_TENANT",
        "SLACK_TEAM_ID",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_API_BASE_URL",
        "SLACK_AUTHORIZE_URL",
        "DD0C_KMS_KEY_ID",
        "DD0C_PUBLIC_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    from dd0c_cost.crypto import reset_sealers
    from dd0c_cost.notify.delivery import reset_caches

    close_connection()
    reset_settings()
    reset_sealers()
    reset_caches()
    reset_notifier()
    yield tmp_path
    close_connection()
    reset_settings()
    reset_sealers()
    reset_caches()
    reset_notifier()


@pytest.fixture
def local_pipeline(app_env: Path):
    from dd0c_cost_tools.local.runner import LocalPipeline

    with LocalPipeline() as pipeline:
        yield pipeline


@pytest.fixture
def operator_conn(db_url: str):
    from dd0c_cost.db.operator import open_operator_connection

    conn = open_operator_connection(db_url)
    yield conn
    conn.close()
