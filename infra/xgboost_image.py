"""Region -> SageMaker built-in XGBoost image URI, resolved at synth time from the sagemaker SDK.

The stack is environment-agnostic (no account or region at synth), so the image cannot be chosen in
Python; instead every region the SDK knows is written into a CfnMapping and CloudFormation picks the
deploy region's entry. The SDK's bundled JSON config is read offline; nothing is fetched.
"""

from __future__ import annotations

import logging
import os
from functools import cache

import aws_cdk as cdk
from constructs import Construct

from churnguard.constants import XGBOOST_CONTAINER_VERSION

IMAGE_URI_KEY = "ImageUri"
REGISTRY_ACCOUNT_KEY = "RegistryAccount"


@cache
def xgboost_image_uris(version: str = XGBOOST_CONTAINER_VERSION) -> dict[str, tuple[str, str]]:
    """{region: (image URI, registry account)} for every region the SDK lists for this version."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    # The SDK announces, on every import, which config files it did not find; synth output stays clean.
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    from sagemaker import image_uris  # imported late: the SDK takes seconds to import

    registries = image_uris.config_for_framework("xgboost")["inference"]["versions"][version]["registries"]
    return {
        region: (image_uris.retrieve("xgboost", region, version), account)
        for region, account in sorted(registries.items())
    }


def xgboost_image_mapping(scope: Construct, construct_id: str) -> cdk.CfnMapping:
    """A CfnMapping region -> {ImageUri, RegistryAccount}; look up with `Aws.REGION`."""
    return cdk.CfnMapping(
        scope,
        construct_id,
        mapping={
            region: {IMAGE_URI_KEY: uri, REGISTRY_ACCOUNT_KEY: account}
            for region, (uri, account) in xgboost_image_uris().items()
        },
    )
