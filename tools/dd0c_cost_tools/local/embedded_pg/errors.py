"""What can go wrong starting the embedded server, as exceptions (the CLI prints them as one line)."""

from __future__ import annotations


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


class PostgresNotFoundError(EmbeddedPostgresError):
    """No PostgreSQL server binaries were found."""


class PortInUseError(EmbeddedPostgresError):
    pass


class SharedMemoryInUseError(EmbeddedPostgresError):
    pass


def classify_failure(tail: str) -> type[EmbeddedPostgresError] | None:
    if "could not bind" in tail or "Address already in use" in tail:
        return PortInUseError
    if "pre-existing shared memory block" in tail:
        return SharedMemoryInUseError
    return None
