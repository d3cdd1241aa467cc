"""Pytest fixtures for a real PostgreSQL: one embedded server per test session (per xdist worker).

Use from ``tests/conftest.py``::

    pytest_plugins = ["pg_fixture"]          # or: from pg_fixture import pg_server, fresh_database

* ``pg_server`` (session): superuser URL of the ``dd0c`` database on an ephemeral, fast server
  (fsync off etc.) in a temporary directory, stopped and deleted at the end of the session.
  With ``DD0C_TEST_DATABASE_URL`` set, that server is used instead and nothing is started.
* ``fresh_database`` (function, needs only ``pg_server``): URL of a new, empty, uniquely named
  database on that server, dropped (``WITH (FORCE)``) after the test. About 0.1 s each.
* ``make_database`` (function, optional): ``make_database(template=None) -> url`` for more
  databases in one test, or copies of a prepared template database (e.g. one with the
  migrations applied once per session).

Both URLs log in as the ``postgres`` superuser over 127.0.0.1 without a password.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dd0c_cost_tools.local.embedded_pg import (
    EmbeddedPostgres,
    create_database,
    drop_database,
)


def _url_for(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` (URL or key=value conninfo)."""
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path="/" + quote(dbname)))
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Superuser URL (database ``dd0c``) of this session's PostgreSQL server."""
    external = os.environ.get("DD0C_TEST_DATABASE_URL")
    if external:
        yield external
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = EmbeddedPostgres.ephemeral(prefix=f"dd0c-pg-{worker}-")
    try:
        url = server.start()
        yield url
    finally:
        server.stop()


def _unique_name(prefix: str = "t") -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{uuid.uuid4().hex[:12]}".lower()


@pytest.fixture
def make_database(pg_server: str) -> Iterator[Callable[..., str]]:
    """``make_database(template=None) -> url``: new uniquely named databases, dropped afterwards."""
    admin_url = _url_for(pg_server, "postgres")
    created: list[str] = []

    def make(template: str | None = None) -> str:
        name = _unique_name()
        create_database(admin_url, name, template=template)
        created.append(name)
        return _url_for(pg_server, name)

    yield make
    for name in reversed(created):
        drop_database(admin_url, name)


@pytest.fixture
def fresh_database(pg_server: str) -> Iterator[str]:
    """URL of a new, empty database (superuser login), dropped after the test."""
    admin_url = _url_for(pg_server, "postgres")
    name = _unique_name()
    create_database(admin_url, name)
    yield _url_for(pg_server, name)
    drop_database(admin_url, name)
