"""`python app.py` as the CDK CLI runs it: no AWS credentials needed, bad options stop it in one line."""

from __future__ import annotations

from pathlib import Path

from tests.infra.conftest import STACK_DEFAULT, Synthesized, cdk_json_context, run_app


def test_synth_writes_the_template_without_credentials(default_synth: Synthesized) -> None:
    # default_synth ran app.py with every AWS_* variable removed and no credential files.
    assert (default_synth.outdir / f"{STACK_DEFAULT}.template.json").is_file()
    assert (default_synth.outdir / "manifest.json").is_file()


def test_invalid_option_stops_synth_with_one_line(tmp_path: Path, trained_model_dir: Path) -> None:
    context = {**cdk_json_context(), "model_dir": str(trained_model_dir), "network": "public"}
    result = run_app(context, tmp_path)
    assert result.returncode == 2
    assert "error: option network='public' is not allowed; use one of: isolated, nat" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))


def test_missing_model_names_the_command_to_run(tmp_path: Path) -> None:
    context = {**cdk_json_context(), "model_dir": str(tmp_path / "no-model")}
    result = run_app(context, tmp_path)
    assert result.returncode == 2
    assert "make train" in result.stderr and "Traceback" not in result.stderr


def test_a_misspelt_option_stops_synth_naming_it(tmp_path: Path, trained_model_dir: Path) -> None:
    # The context as the CDK CLI hands it over for `make synth CDK_ARGS="-c netwrok=isolated"`: cdk.json's,
    # the CLI's own settings, then the user's.
    context = {
        **cdk_json_context(),
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
        "aws:cdk:version-reporting": True,
        "aws:cdk:bundling-stacks": ["**"],
        "model_dir": str(trained_model_dir),
        "netwrok": "isolated",
    }
    result = run_app(context, tmp_path)
    assert result.returncode == 2
    assert "error: unknown option 'netwrok' (did you mean network?); known options: " in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))
