"""The throwaway server's own waits are bounded too: `local up` / `demo` never hang on a stuck
mariadb-install-db, and `local status` does not wait a statement's 15 minutes for a greeting; a start
that fails or is interrupted leaves no folder and no process behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from churnguard.errors import UserError
from churnguard.local import server as local_server
from churnguard.local.server import server_status
from churnguard.local.state import LocalServer

# Far above the sub-second limits set here, far below a hang.
HANG = 20.0


def _gone(pid: int) -> bool:
    """No such process, or only its zombie is left for a parent to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    """Whether the process is gone (_gone) within `seconds`: a killed process takes a moment to end."""
    waited_until = time.monotonic() + seconds
    while not _gone(pid) and time.monotonic() < waited_until:
        time.sleep(0.05)
    return _gone(pid)


def _stuck_installer(tmp_path: Path, monkeypatch) -> Path:
    """The mariadb-install-db local_server finds: like the real script, a shell that starts a
    long-lived server process, which here never ends; returns the file that child's pid is written to."""
    child_pid_file = tmp_path / "child.pid"
    installer = tmp_path / "mariadb-install-db"
    installer.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {child_pid_file}\nwait\n")
    installer.chmod(0o755)
    monkeypatch.setattr(local_server.shutil, "which", lambda name: str(installer))
    return child_pid_file


def test_a_stuck_installer_is_stopped_with_everything_it_started(tmp_path: Path, monkeypatch):
    child_pid_file = _stuck_installer(tmp_path, monkeypatch)
    monkeypatch.setattr(local_server, "INSTALL_TIMEOUT_S", 1.0)
    started = time.monotonic()
    with pytest.raises(UserError, match=r"mariadb-install-db did not finish within 1 s and was stopped"):
        local_server._initialise_data_dir(tmp_path / "data", tmp_path / "install.log", tmp_path)
    assert time.monotonic() - started < HANG
    child = int(child_pid_file.read_text())
    assert _gone_within(child, 5), "the installer's child process outlived it"


def test_a_ctrl_c_that_leaves_popens_wait_lock_held_still_stops_the_installer(tmp_path: Path, monkeypatch):
    """A race that could hang `local up` on Ctrl-C: the interrupt can land in Popen.wait's polling
    loop right after it takes its internal lock and before the `try` that releases it. Here the wait
    is made to end that way every time; the clean-up must still kill and reap the installer, never
    wait on that lock."""
    child_pid_file = _stuck_installer(tmp_path, monkeypatch)
    waits_as_before = subprocess.Popen.wait

    def interrupted_wait(process: subprocess.Popen, timeout: float | None = None) -> int:
        if timeout is None:  # a later, unbounded wait: blocks for ever on the lock left held below
            return waits_as_before(process)
        while not child_pid_file.exists():
            time.sleep(0.01)
        process._waitpid_lock.acquire()  # what the interrupted polling loop leaves behind
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess.Popen, "wait", interrupted_wait)
    raised: list[BaseException] = []

    def start() -> None:
        try:
            local_server._initialise_data_dir(tmp_path / "data", tmp_path / "install.log", tmp_path)
        except BaseException as error:  # the KeyboardInterrupt, handed to the test's thread
            raised.append(error)

    starting = threading.Thread(target=start, daemon=True)
    starting.start()
    starting.join(HANG)
    assert not starting.is_alive(), "the clean-up waited on the lock the interrupted wait left held"
    assert [type(error) for error in raised] == [KeyboardInterrupt]
    child = int(child_pid_file.read_text())
    assert _gone_within(child, 5), "the installer's child process outlived the interrupted start"


def test_an_installer_reading_its_input_gets_none(tmp_path: Path, monkeypatch):
    """The command's own input (here an open pipe nobody writes to, standing in for a terminal) is
    never handed to the installer: a `read` in it ends at once instead of waiting for a keypress."""
    installer = tmp_path / "mariadb-install-db"
    installer.write_text("#!/bin/sh\n[ -p /dev/stdin ] && exit 4\nread answer && exit 0\nexit 3\n")
    installer.chmod(0o755)
    monkeypatch.setattr(local_server.shutil, "which", lambda name: str(installer))
    monkeypatch.setattr(local_server, "INSTALL_TIMEOUT_S", 5.0)
    read_end, write_end = os.pipe()
    saved_stdin = os.dup(0)
    os.dup2(read_end, 0)
    try:
        with pytest.raises(UserError, match=r"mariadb-install-db failed \(exit 3\)"):
            local_server._initialise_data_dir(tmp_path / "data", tmp_path / "install.log", tmp_path)
    finally:
        os.dup2(saved_stdin, 0)
        for descriptor in (saved_stdin, read_end, write_end):
            os.close(descriptor)


def test_status_of_a_server_that_never_greets_says_so_promptly(silent_server: int, monkeypatch):
    monkeypatch.setattr(local_server, "STATUS_TIMEOUT_S", 0.5)
    server = LocalServer(
        url=f"mysql://churnguard:secret@127.0.0.1:{silent_server}/churnguard",
        admin_url="",
        base_dir="",
        port=silent_server,
        pid=os.getpid(),
        managed=False,
    )
    started = time.monotonic()
    line = server_status(server)
    assert line.startswith("not answering:") and "did not answer within 0.5 s" in line
    assert "secret" not in line
    assert time.monotonic() - started < HANG


def _fake_installer(folder: Path, body: str) -> Path:
    """A mariadb-install-db on PATH that finds its --datadir as the real one does, then runs `body`."""
    folder.mkdir()
    installer = folder / "mariadb-install-db"
    installer.write_text(
        '#!/bin/sh\nfor a in "$@"; do case $a in --datadir=*) datadir=${a#--datadir=};; esac; done\n'
        f'mkdir -p "$datadir" && head -c 1048576 /dev/zero > "$datadir/ibdata1"\n{body}\n'
    )
    installer.chmod(0o755)
    return folder


def test_a_failed_install_keeps_its_temporary_files_in_its_folder_and_removes_it(tmp_path: Path, monkeypatch):
    record = tmp_path / "installer-tmpdir"
    fake = _fake_installer(tmp_path / "bin", f'echo "$TMPDIR" > {record}\necho "disk full" >&2\nexit 1')
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    base = tmp_path / "server"
    with pytest.raises(UserError, match=r"mariadb-install-db failed \(exit 1\); its log ended: disk full"):
        local_server.start_server(base)
    assert record.read_text().strip() == str(base / "tmp")  # not the shared /tmp
    assert not base.exists()


@contextlib.contextmanager
def _ctrl_c_reaches_children():
    """Children started inside get SIGINT's default action, as a command typed at a terminal does,
    even when this suite runs with SIGINT ignored (a background job of a non-interactive shell, such
    as `tool &` in a script): an exec'd child gets a caught signal back at its default action, but
    keeps an ignored one ignored, and a Python started with SIGINT ignored never raises
    KeyboardInterrupt."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_local_up_installs_leaves_no_folder_and_no_process(tmp_path: Path):
    child_pid_file = tmp_path / "child.pid"
    fake = _fake_installer(tmp_path / "bin", f"sleep 300 &\necho $! > {child_pid_file}\nwait")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {
        **os.environ,
        "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
        "TMPDIR": str(temporary),
        "CHURNGUARD_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    with _ctrl_c_reaches_children():
        command = subprocess.Popen(
            [sys.executable, "-m", "churnguard.cli", "local", "up"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        waited_until = time.monotonic() + HANG
        while not child_pid_file.exists() and time.monotonic() < waited_until:
            time.sleep(0.05)
        assert child_pid_file.exists(), "the fake installer never started"
        command.send_signal(signal.SIGINT)
        _, stderr = command.communicate(timeout=HANG)
    finally:
        command.kill()
    assert command.returncode == 130 and "interrupted" in stderr
    assert list(temporary.iterdir()) == []  # no churnguard-mariadb-* folder left, 1 MB or 109 MB
    child = int(child_pid_file.read_text())
    assert _gone_within(child, 5), "the installer's child process outlived the interrupted start"
