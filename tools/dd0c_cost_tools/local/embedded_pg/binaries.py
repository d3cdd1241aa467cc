"""Where the PostgreSQL server binaries are, and as whom they run (PostgreSQL refuses root)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dd0c_cost_tools.local.embedded_pg.errors import EmbeddedPostgresError, PostgresNotFoundError


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.name)) or (0,)


def find_pg_bin() -> Path:
    """The directory holding ``initdb`` and ``postgres`` (see the module docstring for the order)."""
    env = os.environ.get("DD0C_PG_BIN")
    if env:
        p = Path(env)
        if (p / "postgres").is_file() and (p / "initdb").is_file():
            return p
        raise PostgresNotFoundError(f"DD0C_PG_BIN={env!r} does not contain 'postgres' and 'initdb'")

    candidates = sorted(
        (
            p
            for p in Path("/usr/lib/postgresql").glob("*/bin")
            if (p / "postgres").is_file() and (p / "initdb").is_file()
        ),
        key=_version_key,
        reverse=True,
    )
    if candidates:
        return candidates[0]

    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            p = Path(out.stdout.strip())
            if (p / "postgres").is_file() and (p / "initdb").is_file():
                return p

    on_path = shutil.which("postgres")
    if on_path:
        p = Path(on_path).resolve().parent
        if (p / "initdb").is_file():
            return p

    for module, sub in (("pgserver", ("pginstall", "bin")), ("postgresql", ("bin",))):
        with contextlib.suppress(ImportError, ValueError):
            spec = importlib.util.find_spec(module)
            if spec and spec.submodule_search_locations:
                for loc in spec.submodule_search_locations:
                    p = Path(loc).joinpath(*sub)
                    if (p / "postgres").is_file() and (p / "initdb").is_file():
                        return p

    raise PostgresNotFoundError(
        "PostgreSQL server binaries (initdb, postgres) not found. Install them, e.g. "
        "'apt-get install postgresql' (Debian/Ubuntu), 'brew install postgresql@15' (macOS) or "
        "'dnf install postgresql-server'; or set DD0C_PG_BIN to their directory; "
        "or set DATABASE_URL to use an existing server."
    )


@dataclass(frozen=True)
class RunAs:
    name: str
    uid: int
    gid: int

    def popen_kwargs(self) -> dict:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def run_as() -> RunAs | None:
    """Who the server runs as: ``None`` means this process's own user (not root)."""
    if os.geteuid() != 0:
        return None
    names = [os.environ["DD0C_PG_USER"]] if os.environ.get("DD0C_PG_USER") else ["postgres", "nobody"]
    for name in names:
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        if pw.pw_uid == 0:
            raise EmbeddedPostgresError(f"DD0C_PG_USER={name!r} is root; PostgreSQL cannot run as root")
        return RunAs(name, pw.pw_uid, pw.pw_gid)
    raise EmbeddedPostgresError(
        f"running as root and none of the users {names} exists to run PostgreSQL as; "
        "create one (e.g. 'useradd --system postgres') or set DD0C_PG_USER"
    )


def user_env(run_as: RunAs | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    if run_as is not None:
        env["HOME"] = "/"
        env["USER"] = env["LOGNAME"] = run_as.name
    return env


def can_reach(run_as: RunAs, path: Path) -> bool:
    """Whether ``run_as`` can traverse into ``path`` (checked by the kernel, ACLs included)."""
    r = subprocess.run(["test", "-x", str(path)], env=user_env(run_as), **run_as.popen_kwargs())
    return r.returncode == 0
