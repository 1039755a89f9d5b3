"""The regions churnguard can be deployed to, checked before anything is built.

Aurora calls Comprehend for every sentiment (`aws_comprehend_detect_sentiment`) and, in endpoint mode,
SageMaker for `will_churn`; in a region where Aurora machine learning or one of those services is
missing, CloudFormation would build the VPC, the NAT gateway and the cluster before the first call
fails. So the deploy region is compared with AWS's published lists while synthesizing (when the CDK
CLI names a region) and by `churnguard preflight` before `make deploy` changes anything.

The lists, as AWS publishes them (quoted in docs/infra.md, "Where it can be deployed"):

* Aurora user guide, "Supported Regions and DB engines for Aurora machine learning"
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.Aurora_ML.html):
  "Aurora machine learning with Amazon Comprehend and Amazon SageMaker AI is supported for Aurora
  MySQL in the AWS Regions listed in the table. In addition to having your version of Aurora MySQL
  available, the AWS Region must also support the service that you want to use." Its table marks
  Africa (Cape Town), Asia Pacific (New Zealand, Taipei, Thailand), Europe (Milan) and Mexico
  (Central) "Not available"; every other Region it lists has "Version 3.01.0 and higher".
* AWS General Reference, "Amazon Comprehend endpoints and quotas"
  (https://docs.aws.amazon.com/general/latest/gr/comprehend.html), the Regions with a Comprehend
  endpoint. Every one of them is also in the Aurora table above, so their intersection is this list.
  (botocore's endpoints.json, shipped with boto3, lists the same Regions for `comprehend`;
  tests/infra/test_deploy_regions.py keeps the two in step.)

The SageMaker XGBoost image's Regions come from the sagemaker SDK (infra/xgboost_image.py); every
Region below has one today, and the synth-time check still asks, for when either list changes.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping

from churnguard.errors import UserError
from churnguard.teardown.cdk_destroy import SKIP_ZONE_CHECK_ENV

# Regions with both Aurora MySQL machine learning (version 3) and a Comprehend endpoint (see above).
AURORA_ML_COMPREHEND_REGIONS = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "eu-central-1",
        "eu-west-1",
        "eu-west-2",
        "us-gov-west-1",
    }
)
IN_DATABASE_HINT = "-c inference_mode=in_database (the model compiled into SQL, no SageMaker)"


class RegionError(UserError):
    """The deploy region lacks a service the stack cannot work without."""


def check_deploy_region(region: str, *, image_regions: Collection[str] | None = None) -> None:
    """Refuse `region` unless Aurora ML reaches Comprehend there and, when `image_regions` is given
    (endpoint mode), the SageMaker XGBoost image is published there."""
    supported = ", ".join(sorted(AURORA_ML_COMPREHEND_REGIONS))
    if region not in AURORA_ML_COMPREHEND_REGIONS:
        raise RegionError(
            f"region {region} cannot run churnguard: AWS lists no Aurora machine learning with Amazon "
            f"Comprehend there (the call centre's sentiment); deploy to one of {supported} "
            "(AWS_REGION or your profile's region)"
        )
    if image_regions is not None and region not in image_regions:
        raise RegionError(
            f"region {region} has no SageMaker built-in XGBoost image for the model endpoint (the sagemaker "
            f"SDK lists none); deploy with {IN_DATABASE_HINT}, or to another region"
        )


def check_synth_region(*, needs_xgboost_image: bool, environ: Mapping[str, str] = os.environ) -> None:
    """The check at synthesis, when the CDK CLI names the deploy region (CDK_DEFAULT_REGION); skipped
    for `cdk destroy`, which must be able to delete whatever was deployed."""
    region = environ.get("CDK_DEFAULT_REGION")
    if not region or environ.get(SKIP_ZONE_CHECK_ENV):
        return
    image_regions = None
    if needs_xgboost_image:
        from infra.xgboost_image import xgboost_image_uris  # the sagemaker SDK takes seconds to import

        image_regions = set(xgboost_image_uris())
    check_deploy_region(region, image_regions=image_regions)
