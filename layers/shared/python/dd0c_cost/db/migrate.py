"""Apply the numbered plain-SQL migrations in ``db/migrations/`` exactly once each."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Any constant works; it serialises concurrent migrators (two Lambdas, two CLIs) on one database.
_ADVISORY_LOCK = 0x0DD0C


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    folder = resources.files("dd0c_cost.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


class MigrationDrift(RuntimeError):
    """An applied migration's file changed afterwards: migrations are append-only."""


def migrate(admin_url: str) -> list[str]:
    """Apply pending migrations with the owner/admin login; return the names applied."""
    applied_now: list[str] = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [_ADVISORY_LOCK])
        try:
            conn.execute(
                """CREATE TABLE IF NOT EXISTS public.dd0c_schema_migrations (
                       version integer PRIMARY KEY, name text NOT NULL,
                       checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {
                row[0]: (row[1], row[2])
                for row in conn.execute("SELECT version, name, checksum FROM public.dd0c_schema_migrations")
            }
            for m in available_migrations():
                if m.version in done:
                    if done[m.version][1] != m.checksum:
                        raise MigrationDrift(
                            f"migration {m.name} was changed after it was applied; add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(m.sql)
                    conn.execute(
                        "INSERT INTO public.dd0c_schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        [m.version, m.name, m.checksum],
                    )
                applied_now.append(m.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_LOCK])
    return applied_now


def migration_status(admin_url: str) -> list[dict]:
    """Every migration this package has, in order, with when it was applied (None: pending)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('public.dd0c_schema_migrations') IS NOT NULL").fetchone()
        applied = {}
        if exists and exists[0]:
            applied = {
                row[0]: row[1] for row in conn.execute("SELECT version, applied_at FROM public.dd0c_schema_migrations")
            }
    return [{"name": m.name, "applied_at": applied.get(m.version)} for m in available_migrations()]


def ensure_app_login(admin_url: str, username: str, password: str, role: str = "dd0c_app") -> None:
    """Create/refresh a runtime login (AWS): a LOGIN role that is a member of ``role`` only
    (dd0c_app, or dd0c_normalizer for the normalize function)."""
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [username]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                sql.SQL(verb), sql.Identifier(username), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(username)))
