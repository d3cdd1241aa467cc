"""The cluster's files: where its directory lives (and who owns it), initdb or a copy of the cached
template, and the settings file the server includes. Kept apart from starting and stopping the
server (``cluster.EmbeddedPostgres``, which this class is a base of)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from dd0c_cost_tools.local.embedded_pg.binaries import can_reach, user_env
from dd0c_cost_tools.local.embedded_pg.errors import EmbeddedPostgresError
from dd0c_cost_tools.local.embedded_pg.locking import pid_alive, read_pidfile
from dd0c_cost_tools.local.embedded_pg.ports import HOST
from dd0c_cost_tools.local.embedded_pg.process import shutdown

SUPERUSER = "postgres"
CONF_NAME = "dd0c.conf"  # our settings, included from postgresql.conf
_EXTERNAL_ROOT = Path("/var/lib/dd0c-cost/clusters")


def _quote_conf(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


class ClusterFiles:
    """The data directory's side of ``EmbeddedPostgres``: uses its ``data_dir``, ``pgdata``,
    ``bin_dir``, ``is_ephemeral`` and ``_get_run_as()``."""

    def _initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").is_file()

    def _prepare_dirs(self) -> None:
        run_as = self._get_run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._pgdata_link.is_symlink() and not self._pgdata_link.exists():
            self._pgdata_link.unlink()  # dangling: its cluster was deleted
        if self._pgdata_link.exists():
            return
        if run_as is None:
            self.pgdata.mkdir(mode=0o700)
            return
        if can_reach(run_as, self.data_dir):
            self.pgdata.mkdir(mode=0o700)
            os.chown(self.pgdata, run_as.uid, run_as.gid)
            return
        # The server's user cannot traverse to data_dir (e.g. /root is 0700): keep the cluster
        # where it can, and point data_dir/pgdata at it.
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
        _EXTERNAL_ROOT.mkdir(parents=True, exist_ok=True)
        for p in (_EXTERNAL_ROOT.parent, _EXTERNAL_ROOT):
            os.chmod(p, 0o755)
        target = _EXTERNAL_ROOT / digest
        if target.exists():  # left over from an earlier data_dir at the same path, since deleted
            old = read_pidfile(target)
            if old is not None and old.pid > 0 and pid_alive(old.pid):
                shutdown(old.pid, target, timeout=30.0, proc=None)
            shutil.rmtree(target)
        target.mkdir(mode=0o700)
        os.chown(target, run_as.uid, run_as.gid)
        self._pgdata_link.symlink_to(target, target_is_directory=True)

    def _check_owner(self) -> None:
        run_as = self._get_run_as()
        want = run_as.uid if run_as else os.geteuid()
        st = os.stat(self.pgdata)
        if st.st_uid != want:
            try:
                owner = pwd.getpwuid(st.st_uid).pw_name
            except KeyError:
                owner = str(st.st_uid)
            who = run_as.name if run_as else "this user"
            raise EmbeddedPostgresError(
                f"{self.pgdata} belongs to {owner!r} but the server would run as {who!r}; "
                "use another data directory, or set DD0C_PG_USER to its owner (when root)"
            )

    def _initdb(self) -> None:
        if self.is_ephemeral and self._copy_from_template_cache():
            return
        self._run_initdb()
        if self.is_ephemeral:
            self._save_to_template_cache()

    # Ephemeral clusters are copied from a cached, freshly initdb'ed cluster (~0.05-0.2 s) rather
    # than initdb'ed each time (~0.4 s). The cache is keyed on the binaries, the server's user and
    # this module's cluster layout; DD0C_PG_TEMPLATE_CACHE=0 disables it.
    _TEMPLATE_LAYOUT = "1"

    def _template_cache_dir(self) -> Path | None:
        if os.environ.get("DD0C_PG_TEMPLATE_CACHE", "1").lower() in ("0", "false", "no", "off"):
            return None
        if shutil.which("cp") is None:
            return None
        run_as = self._get_run_as()
        try:
            st = os.stat(self.bin_dir / "postgres")
        except OSError:
            return None
        key = hashlib.sha256(
            "|".join(
                map(
                    str,
                    (
                        self._TEMPLATE_LAYOUT,
                        self.bin_dir.resolve(),
                        st.st_size,
                        st.st_mtime_ns,
                        run_as.uid if run_as else os.geteuid(),
                    ),
                )
            ).encode()
        ).hexdigest()[:20]
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dd0c-cost" / "pg-templates"
        return base / key

    def _copy_from_template_cache(self) -> bool:
        cache = self._template_cache_dir()
        if cache is None or not (cache / ".complete").is_file():
            return False
        r = subprocess.run(["cp", "-a", f"{cache}/.", str(self.pgdata)], capture_output=True)
        if r.returncode != 0 or not (self.pgdata / "PG_VERSION").is_file():
            for child in self.pgdata.iterdir():  # leave pgdata empty for initdb
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            return False
        with contextlib.suppress(FileNotFoundError):
            (self.pgdata / ".complete").unlink()
        return True

    def _save_to_template_cache(self) -> None:
        cache = self._template_cache_dir()
        if cache is None or cache.exists():
            return
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache.parent))
            r = subprocess.run(["cp", "-a", f"{self.pgdata}/.", str(tmp)], capture_output=True)
            if r.returncode == 0:
                (tmp / ".complete").write_text("")
                try:
                    tmp.rename(cache)  # atomic; loses harmlessly to a concurrent builder
                    return
                except OSError:
                    pass
            shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass

    def _run_initdb(self) -> None:
        run_as = self._get_run_as()
        cmd = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        ]
        if self.is_ephemeral:
            cmd.append("--no-sync")
        r = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=user_env(run_as),
            cwd="/",
            **(run_as.popen_kwargs() if run_as else {}),
        )
        if r.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        # Trust on 127.0.0.1 only; there is no Unix socket (unix_socket_directories = '').
        (self.pgdata / "pg_hba.conf").write_text(
            "# dd0c-cost embedded server: passwordless, loopback TCP only.\n"
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "host    all       all   127.0.0.1/32  trust\n"
        )
        with open(self.pgdata / "postgresql.conf", "a") as f:
            f.write(f"\n# dd0c-cost\ninclude_if_exists = '{CONF_NAME}'\n")

    def _configured_port(self) -> int | None:
        try:
            text = (self.pgdata / CONF_NAME).read_text()
        except OSError:
            return None
        m = re.search(r"^\s*port\s*=\s*(\d+)", text, re.M)
        return int(m.group(1)) if m else None

    def _write_conf(self, port: int) -> None:
        lines = [
            "# Written by dd0c_cost_tools.local.embedded_pg; rewritten on start.",
            f"port = {port}",
            f"listen_addresses = {_quote_conf(HOST)}",
            "unix_socket_directories = ''",
            "logging_collector = off",
        ]
        if not self.is_ephemeral:
            lines.append("shared_buffers = '32MB'")
        path = self.pgdata / CONF_NAME
        path.write_text("\n".join(lines) + "\n")
        run_as = self._get_run_as()
        if run_as is not None:
            with contextlib.suppress(OSError):
                os.chown(path, run_as.uid, run_as.gid)
