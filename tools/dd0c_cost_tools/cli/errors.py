"""The CLI's one error shape: what went wrong and how to fix it, printed as one line."""

from __future__ import annotations


class CliError(Exception):
    """A failure the operator can fix; ``fix`` says how (printed after the message)."""

    def __init__(self, message: str, fix: str | None = None, *, status: int = 2) -> None:
        super().__init__(message)
        self.message, self.fix, self.status = message, fix, status

    def __str__(self) -> str:
        return f"{self.message} ({self.fix})" if self.fix else self.message


def explain(exc: BaseException) -> CliError | None:
    """Known failures from below the CLI, as one line with the fix; None for a bug."""
    import psycopg

    from dd0c_cost.db.migrate import MigrationDrift
    from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgresError

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, MigrationDrift):
        return CliError(str(exc), "migrations are append-only: restore the file and add a new one")
    if isinstance(exc, EmbeddedPostgresError):
        return CliError(str(exc))
    if isinstance(exc, psycopg.OperationalError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return CliError(
            f"cannot reach PostgreSQL: {first}", "check DATABASE_URL, or unset it to use the embedded server"
        )
    if isinstance(exc, FileNotFoundError):
        return CliError(str(exc))
    return None
