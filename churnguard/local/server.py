"""The throwaway MariaDB server that stands in for Aurora.

`start_server` runs Debian's mariadbd from a fresh temporary data directory on a free 127.0.0.1 port
(nothing public, no system service, no root needed); `stop_server` stops it and deletes the
directory. `churnguard local up|down|status` records the running server in the state file (state.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from churnguard.constants import DATABASE_NAME
from churnguard.db import PyMySqlClient, connect
from churnguard.errors import UserError
from churnguard.local.state import LocalServer

APP_USER = "churnguard"
SERVER_BINARY_CANDIDATES = ("/usr/sbin/mariadbd", "/usr/sbin/mysqld")
STARTUP_TIMEOUT_S = 30.0
# Creating the system tables takes a few seconds; a stuck bootstrap (a locked data directory, no
# asynchronous I/O in a container) would otherwise hang `local up` and `demo` for good.
INSTALL_TIMEOUT_S = 120.0
# `local status` is a quick look: a server that accepts the connection but never greets is "not
# answering" after this, not after the 15-minute statement limit.
STATUS_TIMEOUT_S = 3.0
SHUTDOWN_TIMEOUT_S = 20.0
MARKER_FILE = "CHURNGUARD-LOCAL-SERVER"
# How much of a deleted log a start-up failure quotes.
LOG_TAIL_LINES = 3
# Where Linux shows each process's command line; other systems have none.
PROC_DIR = Path("/proc")


def server_binary() -> str:
    for candidate in SERVER_BINARY_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("mariadbd") or shutil.which("mysqld")
    if found:
        return found
    raise UserError("MariaDB is not installed: run `make system-packages` (Debian package mariadb-server)")


def free_port() -> int:
    """A port nobody listens on right now (the server binds it a moment later; start retries on a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runs_server_of(pid: int, base_dir: str) -> bool:
    """Whether `pid` is still the mariadbd started on `base_dir`, not another process given the pid
    after a reboot: `local down` must never signal a stranger."""
    if not (PROC_DIR / "self").exists():
        return is_alive(pid)  # no /proc to ask (not Linux): trust the pid
    cmdline = PROC_DIR / str(pid) / "cmdline"
    if not cmdline.parent.exists():
        return False
    try:
        arguments = cmdline.read_bytes().split(b"\0")
    except OSError:
        return is_alive(pid)  # there but unreadable (e.g. /proc mounted with hidepid): trust the pid
    return f"--datadir={Path(base_dir) / 'data'}".encode() in arguments


def _run_as_root_options() -> list[str]:
    # mariadbd refuses to run as root unless told to; as any other user it simply runs as that user.
    return ["--user=root"] if os.geteuid() == 0 else []


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log that is about to be deleted with its folder, for the error message."""
    try:
        tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "; its log ended: " + " | ".join(line.strip() for line in tail if line.strip()) if tail else ""


def _initialise_data_dir(data_dir: Path, log_path: Path, tmp_dir: Path) -> None:
    installer = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if installer is None:
        raise UserError("mariadb-install-db not found: install the Debian package mariadb-server")
    command = [
        installer,
        "--no-defaults",
        f"--datadir={data_dir}",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        *_run_as_root_options(),
    ]
    with log_path.open("w", encoding="utf-8") as log:
        # Its own session, so a hang kills the script and the bootstrap mariadbd it started together;
        # no terminal input, so nothing can sit waiting for a keypress.
        # TMPDIR: the bootstrap server it runs keeps its temporary tables in the server's own folder,
        # where no other program (or /tmp cleaner) can remove them mid-install.
        installer_process = subprocess.Popen(  # noqa: S603 - fixed argv
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "TMPDIR": str(tmp_dir)},
        )
        try:
            returncode = installer_process.wait(timeout=INSTALL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_session(installer_process)
            raise UserError(
                f"mariadb-install-db did not finish within {INSTALL_TIMEOUT_S:g} s and was stopped"
                f"{_log_tail(log_path)}"
            ) from None
        except BaseException:  # Ctrl-C: the installer must not go on writing into a folder being removed
            _kill_session(installer_process)
            raise
    if returncode != 0:
        raise UserError(f"mariadb-install-db failed (exit {returncode}){_log_tail(log_path)}")


def _kill_session(process: subprocess.Popen[bytes]) -> None:
    """Kill a process started in its own session together with everything it started, and reap it.

    Reaped with os.waitpid, not Popen.wait: a Ctrl-C that lands in Popen.wait(timeout=...)'s polling
    loop just after it takes its internal lock, and before the `try` that releases it (CPython 3.11
    to 3.13), leaves that lock held, and a later Popen.wait() would then block for ever instead of
    cleaning up (tests/test_local_server_bounds.py leaves the lock held that way).
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # already reaped by Popen
        os.waitpid(process.pid, 0)


def _launch(base_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        server_binary(),
        "--no-defaults",
        f"--datadir={base_dir / 'data'}",
        f"--socket={base_dir / 'mariadb.sock'}",
        f"--pid-file={base_dir / 'mariadb.pid'}",
        f"--log-error={base_dir / 'error.log'}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        "--skip-name-resolve",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci",
        # Small and quick: a scratch server needs neither a big buffer pool nor durable flushes.
        # Each commit is still written to the log (not fsynced): a killed server keeps every answer
        # it confirmed, so the offers log stays exactly-once (0 would lose up to a second of them).
        "--innodb-buffer-pool-size=128M",
        "--innodb-flush-log-at-trx-commit=2",
        "--max-allowed-packet=64M",
        # Bulk scoring materialises every customer's features; keep that in memory, and whatever
        # spills to disk inside the server's own directory rather than a shared /tmp.
        "--tmp-table-size=256M",
        "--max-heap-table-size=256M",
        f"--tmpdir={base_dir / 'tmp'}",
        *_run_as_root_options(),
    ]
    # A new session keeps the server running after `churnguard local up` exits and away from the
    # terminal's Ctrl-C; `local down` stops it by its recorded pid.
    return subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, base_dir: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = _log_tail(base_dir / "error.log")
            raise UserError(f"MariaDB exited during start-up (exit {process.returncode}){tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    tail = _log_tail(base_dir / "error.log")
    raise UserError(f"MariaDB did not accept connections within {STARTUP_TIMEOUT_S:.0f} s{tail}")


def _secure_accounts(port: int, database: str) -> tuple[str, str]:
    """Give root a random password, create the application user on one database; return both URLs."""
    root_password = secrets.token_urlsafe(18)
    app_password = secrets.token_urlsafe(18)
    root = connect(f"mysql://root@127.0.0.1:{port}/")
    try:
        # Identifiers cannot be bound; `database` is checked to be a plain identifier by the caller.
        root.execute(f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4")
        root.execute(
            "CREATE USER %(user)s@'127.0.0.1' IDENTIFIED BY %(password)s",
            {"user": APP_USER, "password": app_password},
        )
        root.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO %(user)s@'127.0.0.1'", {"user": APP_USER})
        for host in ("localhost", "127.0.0.1", "::1"):
            root.execute(
                "SET PASSWORD FOR 'root'@%(host)s = PASSWORD(%(password)s)",
                {"host": host, "password": root_password},
            )
    finally:
        root.close()
    return (
        f"mysql://{APP_USER}:{app_password}@127.0.0.1:{port}/{database}",
        f"mysql://root:{root_password}@127.0.0.1:{port}/",
    )


def start_server(
    base_dir: Path | None = None, *, database: str = DATABASE_NAME, attempts: int = 3
) -> LocalServer:
    """Start a private MariaDB server with an empty `database` in `base_dir` (default: a new temporary
    folder); seconds, not minutes. A start that fails or is interrupted (Ctrl-C) leaves nothing behind:
    every process it started is stopped and the folder deleted (`local down` would not know of them).
    """
    if not database.isidentifier():
        raise UserError(f"database name {database!r} must be letters, digits and _ only")
    base = Path(base_dir) if base_dir else Path(tempfile.mkdtemp(prefix="churnguard-mariadb-"))
    started: list[subprocess.Popen[bytes]] = []
    try:
        return _start_in(base, database, attempts, started)
    except BaseException:
        for process in started:
            _terminate(process.pid)
        shutil.rmtree(base, ignore_errors=True)
        raise


def _start_in(
    base: Path, database: str, attempts: int, started: list[subprocess.Popen[bytes]]
) -> LocalServer:
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    (base / MARKER_FILE).write_text(
        "a throwaway churnguard MariaDB server; `churnguard local down` deletes it\n"
    )
    (base / "tmp").mkdir(exist_ok=True, mode=0o700)
    _initialise_data_dir(base / "data", base / "install.log", base / "tmp")
    last_error: UserError | None = None
    for _ in range(attempts):
        port = free_port()
        process = _launch(base, port)
        started.append(process)
        try:
            _wait_until_ready(process, port, base)
        except UserError as error:  # most likely another process took the port first: try another
            last_error = error
            _terminate(process.pid)
            continue
        url, admin_url = _secure_accounts(port, database)
        return LocalServer(url=url, admin_url=admin_url, base_dir=str(base), port=port, pid=process.pid)
    raise last_error or UserError("MariaDB did not start")


def _terminate(pid: int) -> None:
    if not is_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + SHUTDOWN_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            # Reap it when it is our child (the test session); otherwise just poll.
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished == pid:
                return
        except ChildProcessError:
            pass
        if not is_alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def stop_server(server: LocalServer) -> None:
    """Stop a managed server and delete its directory; an adopted server is left running."""
    if not server.managed:
        return
    if runs_server_of(server.pid, server.base_dir):
        _terminate(server.pid)
    # Only a directory start_server made is deleted, whatever the state file says.
    if (Path(server.base_dir) / MARKER_FILE).exists():
        shutil.rmtree(server.base_dir, ignore_errors=True)


def server_status(server: LocalServer) -> str:
    """One line saying whether the recorded server answers, without the password."""
    where = f"127.0.0.1:{server.port}" if server.managed else "an existing server"
    if server.managed and not runs_server_of(server.pid, server.base_dir):
        return f"stopped: the server recorded at {where} (pid {server.pid}) is not running"
    try:
        client = connect(
            server.url,
            connect_timeout=STATUS_TIMEOUT_S,
            read_timeout=STATUS_TIMEOUT_S,
            write_timeout=STATUS_TIMEOUT_S,
        )
    except UserError as error:
        return f"not answering: {error}"
    try:
        version = client.query("SELECT VERSION() AS version")[0]["version"]
        customers = _count_customers(client)
    finally:
        client.close()
    return f"running: {where}, MariaDB {version}, {customers} customers; url {client.url}"


def _count_customers(client: PyMySqlClient) -> str:
    tables = client.query(
        "SELECT COUNT(*) AS n FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers'"
    )
    if not tables[0]["n"]:
        return "no customers table"
    return str(client.query("SELECT COUNT(*) AS n FROM customers")[0]["n"])
