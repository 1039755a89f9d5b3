"""`churnguard local up|down|status`, parsed and run as the `churnguard` entry point does."""

import argparse
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from churnguard.cli import main as cli_main
from churnguard.commands import local
from churnguard.commands._model_dirs import model_dir
from churnguard.db import connect
from churnguard.engine.failures import StatementRefused
from churnguard.errors import UserError
from churnguard.lifecycle.identity import read_identity
from churnguard.local import server as local_server
from churnguard.local.state import LocalServer, read_state, state_path, write_state
from tests.fixtures.mariadb import scratch_database

pytestmark = pytest.mark.mariadb


def main(argv: list[str]) -> int:
    """churnguard.cli.main restricted to this command, so other commands' imports do not matter here."""
    parser = argparse.ArgumentParser(prog="churnguard")
    local.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"churnguard {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code


@pytest.fixture()
def churnguard_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `local up` keeps its model in ./artifacts/models
    monkeypatch.setenv("CHURNGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHURNGUARD_DB_URL", raising=False)
    monkeypatch.delenv("CHURNGUARD_MODEL_DIR", raising=False)
    return tmp_path / "home"


def test_up_status_down_with_a_private_server(churnguard_home, trained_model_dir, capsys):
    assert main(["local", "up", "--model", str(trained_model_dir), "--customers", "150"]) == 0
    server = read_state()
    assert server is not None and server.managed
    assert stat.S_IMODE(os.stat(state_path()).st_mode) == 0o600
    assert server.url.split("@")[0].split(":")[-1] not in capsys.readouterr().out  # password never printed
    # `local up` keeps the model it installed (here the one given by --model) in the model store,
    # and `recommend` explains scores with it
    kept = (Path("artifacts/models") / read_identity(trained_model_dir).model_id).resolve()
    assert model_dir(None) == kept == Path(server.model_dir)
    assert (kept / "model.json").read_bytes() == (trained_model_dir / "model.json").read_bytes()
    # the deployed API Lambdas' user, with their grants (churnguard.bootstrap.app_user)
    api = connect(server.api_url)
    try:
        assert api.query("SELECT COUNT(*) AS n FROM customers") == [{"n": 150}]
        with pytest.raises(StatementRefused):
            api.execute("DELETE FROM customers")
    finally:
        api.close()

    client = connect(server.url)
    try:
        assert client.query("SELECT COUNT(*) AS n FROM customers") == [{"n": 150}]
        row = client.query(
            "SELECT aws_comprehend_detect_sentiment('How do I dial Morocco?', 'en') AS s,"
            " (SELECT churn_probability FROM customer_churn_scores"
            "  WHERE area_code = 415 AND phone = '358-1921') AS p"
        )[0]
        assert row["s"] == "NEUTRAL" and 0 <= row["p"] <= 1
        # least privilege: the application user sees its own database only
        assert {r["Database"] for r in client.query("SHOW DATABASES")} <= {"churnguard", "information_schema"}
    finally:
        client.close()

    assert main(["local", "status"]) == 0
    status = capsys.readouterr().out
    assert status.startswith("running") and "150 customers" in status
    assert server.url.split(":")[2].split("@")[0] not in status  # the password stays in the state file
    # The SQL prompt line runs as pasted, without a password typed or on its command line.
    (prompt,) = [line.removeprefix("SQL prompt: ") for line in status.splitlines() if line.startswith("SQL")]
    assert prompt.startswith("mariadb --defaults-extra-file=") and prompt.endswith(" churnguard")
    options_file = Path(prompt.split("=", 1)[1].split()[0])
    assert stat.S_IMODE(os.stat(options_file).st_mode) == 0o600
    pasted = subprocess.run(  # noqa: S602 - the printed line, run as a user would paste it
        f"{prompt} --batch -e 'SELECT COUNT(*) AS n FROM customers'",
        shell=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (pasted.returncode, pasted.stdout) == (0, "n\n150\n"), pasted.stderr
    assert main(["local", "up", "--model", str(trained_model_dir)]) == 2  # already up: a clear error
    refusal = capsys.readouterr().err
    assert "local down" in refusal and f"127.0.0.1:{server.port}" in refusal
    assert server.url.split(":")[2].split("@")[0] not in refusal

    assert main(["local", "down"]) == 0
    assert not Path(server.base_dir).exists()
    assert read_state() is None
    assert not options_file.exists()  # the password's copy goes with the server
    assert main(["local", "status"]) == 3
    assert (kept / "metadata.json").is_file()  # the model outlives the throwaway server


def test_after_local_up_drift_and_models_list_find_the_model_it_trained(churnguard_home, capsys):
    """`local up` trains its own model (in the server's directory); the lifecycle commands find it
    without being told where, and name only folders that exist."""
    assert main(["local", "up", "--customers", "400", "--trials", "1"]) == 0
    try:
        capsys.readouterr()
        assert cli_main(["drift"]) == 0
        drift = capsys.readouterr()
        live = drift.out.split()[3]  # "Drift of model <id> over ..."
        kept = Path("artifacts/models") / live
        assert (kept / "model.json").is_file()
        assert cli_main(["models", "list"]) == 0
        listed = capsys.readouterr().out
        assert f"* {live}" in listed and str(kept) in listed
        assert cli_main(["models", "list", "--json"]) == 0
        (model,) = json.loads(capsys.readouterr().out)["models"]
        assert Path(model["folder"]).is_dir()
    finally:
        assert main(["local", "down"]) == 0


def test_up_adopts_an_existing_database_and_down_leaves_it(churnguard_home, trained_model_dir, mariadb_url):
    with scratch_database(mariadb_url, "adopt") as url:
        assert (
            main(["local", "up", "--db-url", url, "--model", str(trained_model_dir), "--customers", "120"])
            == 0
        )
        assert main(["local", "down"]) == 0
        client = connect(url)
        try:
            tables = client.query(
                "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            )
        finally:
            client.close()
        assert tables[0]["n"] >= 3


def test_bad_options_are_one_line_errors(churnguard_home, tmp_path, capsys):
    assert main(["local", "up", "--model", str(tmp_path)]) == 2
    assert "metadata.json" in capsys.readouterr().err
    assert main(["local", "up", "--customers", "5"]) == 2
    assert read_state() is None


def test_down_never_signals_a_stranger_nor_deletes_a_foreign_directory(churnguard_home, tmp_path):
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "file.txt").write_text("mine")
    # a stale state file: the pid now belongs to this very test process, the directory to someone else
    write_state(
        LocalServer(
            url="mysql://u:p@127.0.0.1:1/churnguard",
            admin_url="",
            base_dir=str(keep),
            port=1,
            pid=os.getpid(),
        )
    )
    assert main(["local", "status"]) == 0
    assert main(["local", "down"]) == 0  # we are still alive to assert this
    assert (keep / "file.txt").read_text() == "mine"
    assert read_state() is None


def test_the_recorded_pid_is_checked_against_proc_where_there_is_one(tmp_path, monkeypatch):
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    # Linux: this test process is alive but is no mariadbd on that directory
    assert not local_server.runs_server_of(os.getpid(), str(tmp_path))
    assert not local_server.runs_server_of(exited.pid, str(tmp_path))
    # a system without /proc cannot tell whose process it is: a live pid is trusted, a gone one is not
    monkeypatch.setattr(local_server, "PROC_DIR", tmp_path / "no-proc")
    assert local_server.runs_server_of(os.getpid(), str(tmp_path))
    assert not local_server.runs_server_of(exited.pid, str(tmp_path))
