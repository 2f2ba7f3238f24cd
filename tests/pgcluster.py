"""A throwaway PostgreSQL cluster in a temp folder on a free port (tests and benches)."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

SEARCH = "/usr/lib/postgresql/*/bin"


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then the newest Debian install."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).resolve().parent)):
        return Path(found).resolve().parent

    def version(p: str) -> int:
        m = re.search(r"/(\d+)/bin", p)
        return int(m.group(1)) if m else 0

    dirs = sorted((d for d in glob.glob(SEARCH) if Path(d, "initdb").exists()), key=version)
    return Path(dirs[-1]) if dirs else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """initdb + pg_ctl start as the ``postgres`` OS user when run as root; stop() removes it.

    Local (socket) connections are trusted for setup; TCP logins need the password, so the
    tests can also check what a wrong password does.
    """

    def __init__(self, bindir: Path, *, fsync: bool = False) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="elaas-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.password = "pw-" + secrets.token_hex(8)
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(self.root, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                  "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256")
        self._opts = (f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1"
                      f" -c max_connections=100 -c fsync={'on' if fsync else 'off'}")
        self.started = False
        self.start_server()
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE elaas LOGIN PASSWORD '{self.password}'")
            conn.execute("CREATE DATABASE elaas OWNER elaas")

    def start_server(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w",
                  "-t", "30", "-o", self._opts, "start")
        self.started = True

    def stop_server(self) -> None:
        """Stop the server now (a database that goes down); start_server() brings it back."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.started = False

    def _run(self, tool: str, *args: str) -> None:
        cmd = [*self._as, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection over the socket (autocommit)."""
        return psycopg.connect(host=str(self.root), port=self.port, user="postgres",
                               dbname=dbname, autocommit=True)

    def url(self, schema: str = "", *, password: str | None = None, dbname: str = "elaas",
            port: int | None = None) -> str:
        """A TCP URL for the ``elaas`` role, optionally confined to ``schema``."""
        pw = self.password if password is None else password
        url = f"postgresql://elaas:{pw}@127.0.0.1:{port or self.port}/{dbname}"
        return url + (f"?options=-csearch_path%3D{schema}" if schema else "")

    def new_schema(self) -> str:
        """A fresh, empty schema owned by ``elaas`` (one per test keeps tests apart)."""
        name = "t_" + secrets.token_hex(6)
        with self.admin("elaas") as conn:
            conn.execute(f"CREATE SCHEMA {name} AUTHORIZATION elaas")
        return name

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop_server()
        shutil.rmtree(self.root, ignore_errors=True)
