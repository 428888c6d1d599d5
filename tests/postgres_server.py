"""A real PostgreSQL for the tests, started by the tests themselves (a pytest plugin).

Fixtures:
- `postgres_server` (session): one server for the whole run, started on first use.
- `postgres_url` (function): `postgresql://jixiao:PASSWORD@127.0.0.1:PORT/<fresh database>`,
  a new empty database for each test (dropped at the end of the session with the server).
- `make_postgres_server` (session): `make_postgres_server()` starts another server of the
  test's own, for outage tests: `server.stop()` / `server.start()` take it away and bring
  it back on the same port with its data. `server.remove()` when done; whatever is left
  is stopped and removed at the end of the session.

The server is the machine's own PostgreSQL binaries (`initdb`, `pg_ctl`, found in
/usr/lib/postgresql/<newest>/bin, else on PATH, else $JIXIAO_PG_BIN), run with `pg_ctl`
in a temporary folder: a unix socket there and a free TCP port on 127.0.0.1, password
authentication (scram-sha-256) over TCP so URLs carry a password, fsync off (test data
need not survive a power cut). PostgreSQL refuses to run as root, so as root every
command runs as the `postgres` user (runuser) in a folder it owns. pytest-postgresql is
not used: it runs initdb and pg_ctl as the current user, which fails as root
("initdb: cannot be run as root"), and root is who runs the tests here and in CI.

Without the binaries the PostgreSQL tests are skipped with the reason, except when the
environment variable CI is set: CI must test PostgreSQL, so there they fail
(`scripts/install_postgres.sh`, run by `scripts/test.sh`, installs PostgreSQL when it can).
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

USER = "jixiao"
#: A password with characters a URL must encode, so every test exercises the encoding.
PASSWORD = "pw:" + secrets.token_hex(8) + "/@"
ENCODED_PASSWORD = PASSWORD.replace(":", "%3A").replace("/", "%2F").replace("@", "%40")
START_TIMEOUT_S = 30
SYSTEM_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or they cannot run."""


def find_bin_dir() -> Path:
    """The folder with initdb and pg_ctl: $JIXIAO_PG_BIN when set (and only it), else the
    newest /usr/lib/postgresql/*/bin, else the one on PATH."""
    if os.environ.get("JIXIAO_PG_BIN"):
        chosen = Path(os.environ["JIXIAO_PG_BIN"])
        if (chosen / "initdb").is_file() and (chosen / "pg_ctl").is_file():
            return chosen
        raise PostgresUnavailable(f"JIXIAO_PG_BIN={chosen} holds no initdb and pg_ctl")
    candidates: list[Path] = []
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)] or [0], reverse=True)
    candidates.extend(versions)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin, on PATH or in "
        "$JIXIAO_PG_BIN; install them (Debian: apt-get install postgresql) or run scripts/install_postgres.sh as root")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder; `start`, `stop`, `create_database`, `url`."""

    def __init__(self, bin_dir: Path, root: Path):
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self.log_file = root / "server.log"
        self.port = free_port()
        self.user, self.password = USER, PASSWORD
        self._as_root = os.geteuid() == 0
        self._owner = self._system_user() if self._as_root else None
        self.socket_dir.mkdir(parents=True)
        password_file = root / "password"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if self._owner is not None:
            for path in (root, self.socket_dir, password_file):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={password_file}",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        password_file.unlink()
        self.running = False

    @staticmethod
    def _system_user() -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresUnavailable(f"running as root, and there is no '{SYSTEM_USER}' user to run "
                                      "PostgreSQL as (the distribution's package creates it)") from None

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / program), *args]
        if self._owner is not None:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, timeout=120)
        if check and done.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise PostgresUnavailable(f"{program} {' '.join(args[:2])} failed ({done.returncode}): "
                                      f"{done.stderr.strip() or done.stdout.strip()}\n{log}")
        return done

    def start(self) -> None:
        """Start (again) on the same port and socket; returns once it accepts connections."""
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_file), "-w", "-t", str(START_TIMEOUT_S),
                  "-o", options, "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: disconnect everyone; `immediate`: as if it crashed)."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop", check=False)
        self.running = False

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """The TCP URL with the password (URL-encoded) for `database`."""
        encoded = ENCODED_PASSWORD if password is None else password
        return f"postgresql://{USER}:{encoded}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        """A psycopg connection in autocommit, over the unix socket (no password needed)."""
        import psycopg

        return psycopg.connect(host=str(self.socket_dir), port=self.port, user=USER, dbname=database,
                               autocommit=True, connect_timeout=10)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its URL."""
        name = name or "t_" + uuid.uuid4().hex[:16]
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        if self.running:
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def new_server(start: bool = True) -> PostgresServer:
    """A new cluster in a new temporary folder (raises PostgresUnavailable)."""
    bin_dir = find_bin_dir()
    # /tmp, whatever TMPDIR says: the postgres user must reach the folder (a root's TMPDIR
    # may be closed to it) and a unix socket's path must stay under 108 bytes.
    base = "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else None
    root = Path(tempfile.mkdtemp(prefix="jixiao-pg-", dir=base))
    try:
        server = PostgresServer(bin_dir, root)
        if start:
            server.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def unavailable(reason: str):
    """Skip, or fail under CI (where PostgreSQL must be tested)."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def make_postgres_server() -> Iterator[Callable[[], PostgresServer]]:
    """`make_postgres_server()`: a started server of the caller's own (removed at session end)."""
    made: list[PostgresServer] = []

    def make() -> PostgresServer:
        try:
            server = new_server()
        except PostgresUnavailable as error:
            unavailable(str(error))
        made.append(server)
        return server

    yield make
    for server in made:
        server.remove()


@pytest.fixture(scope="session")
def postgres_server(make_postgres_server: Callable[[], PostgresServer]) -> PostgresServer:
    """The session's shared server (do not stop it: use make_postgres_server for that)."""
    return make_postgres_server()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the shared server: `postgresql://jixiao:…@127.0.0.1:PORT/t_…`."""
    if not postgres_server.running:
        postgres_server.start()
    return postgres_server.create_database()


#: Run a test on SQLite and on PostgreSQL: it must use `registry_url` (or a fixture built on it).
ON_BOTH_DATABASES = pytest.mark.parametrize("backend", ("sqlite", "postgresql"))


@pytest.fixture
def backend() -> str:
    """Which database the test's own database is on (parametrize it, e.g. ON_BOTH_DATABASES, to change it)."""
    return "sqlite"


@pytest.fixture
def registry_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database's URL: an SQLite file in tmp_path, or a new PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    return request.getfixturevalue("postgres_url")
