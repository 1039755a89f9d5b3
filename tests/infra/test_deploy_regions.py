"""The deploy-region refusal: AWS's lists (Aurora ML with Comprehend, the XGBoost image) and where it runs."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import pytest

from churnguard.teardown.cdk_destroy import SKIP_ZONE_CHECK_ENV
from infra.deploy_regions import (
    AURORA_ML_COMPREHEND_REGIONS,
    RegionError,
    check_deploy_region,
    check_synth_region,
)
from infra.xgboost_image import xgboost_image_uris
from tests.infra.conftest import cdk_json_context, run_app


def botocore_comprehend_regions() -> set[str]:
    """The Regions botocore's bundled endpoints.json gives a Comprehend endpoint (FIPS names aside)."""
    data = json.loads(
        (Path(botocore.__file__).parent / "data" / "endpoints.json").read_text(encoding="utf-8")
    )
    regions: set[str] = set()
    for partition in data["partitions"]:
        if partition["partition"] not in ("aws", "aws-us-gov"):
            continue  # isolated partitions have no Aurora machine learning listing
        endpoints = partition["services"].get("comprehend", {}).get("endpoints", {})
        regions |= {
            name
            for name, endpoint in endpoints.items()
            if "fips" not in name and not endpoint.get("deprecated")
        }
    return regions


def test_the_list_matches_the_comprehend_regions_botocore_ships() -> None:
    assert botocore_comprehend_regions() == AURORA_ML_COMPREHEND_REGIONS


def test_every_supported_region_has_the_xgboost_image() -> None:
    assert set(xgboost_image_uris()) >= AURORA_ML_COMPREHEND_REGIONS


def test_a_region_without_comprehend_is_refused_naming_the_supported_ones() -> None:
    with pytest.raises(RegionError) as refused:
        check_deploy_region("eu-north-1")
    message = str(refused.value)
    assert message.startswith("region eu-north-1 cannot run churnguard: AWS lists no Aurora machine learning")
    assert "eu-west-1" in message and "us-east-1" in message


def test_a_region_without_the_xgboost_image_points_to_in_database_mode() -> None:
    with pytest.raises(
        RegionError, match=r"no SageMaker built-in XGBoost image .* -c inference_mode=in_database"
    ):
        check_deploy_region("eu-west-1", image_regions={"us-east-1"})
    check_deploy_region("eu-west-1", image_regions={"eu-west-1"})
    check_deploy_region("eu-west-1")  # in_database: no image needed


def test_synthesis_checks_only_when_the_cli_names_a_region() -> None:
    check_synth_region(needs_xgboost_image=True, environ={})  # make synth without a region: nothing to check
    check_synth_region(needs_xgboost_image=True, environ={"CDK_DEFAULT_REGION": "eu-central-1"})
    with pytest.raises(RegionError):
        check_synth_region(needs_xgboost_image=False, environ={"CDK_DEFAULT_REGION": "af-south-1"})
    # cdk destroy (the teardown) must delete whatever exists, wherever it is.
    check_synth_region(
        needs_xgboost_image=False, environ={"CDK_DEFAULT_REGION": "af-south-1", SKIP_ZONE_CHECK_ENV: "1"}
    )


def test_the_app_refuses_an_unsupported_region_before_building(
    tmp_path: Path, trained_model_dir: Path
) -> None:
    context = {**cdk_json_context(), "model_dir": str(trained_model_dir)}
    result = run_app(context, tmp_path, extra_env={"CDK_DEFAULT_REGION": "sa-east-1"})
    assert result.returncode == 2, result.stderr[-2000:]
    assert "error: region sa-east-1 cannot run churnguard" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))
