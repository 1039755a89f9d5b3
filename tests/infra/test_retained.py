"""What a stage=prod stack retains is what `churnguard teardown` keeps and prices (RETAINED_BY_PROD)."""

from __future__ import annotations

from churnguard.teardown.leftovers import RETAINED_BY_PROD
from tests.infra.conftest import Synthesized

# The teardown's name for each kind of resource CloudFormation leaves behind.
TEARDOWN_KIND = {
    "AWS::Logs::LogGroup": "log group",
    "AWS::SecretsManager::Secret": "Secrets Manager secret",
    "AWS::KMS::Key": "KMS key",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::RDS::DBCluster": "DB cluster snapshot",  # DeletionPolicy Snapshot leaves a final snapshot
    "AWS::Cognito::UserPool": "Cognito user pool",
}


def retained(synth: Synthesized) -> dict[str, dict]:
    return {
        logical_id: resource
        for logical_id, resource in synth.template["Resources"].items()
        if resource.get("DeletionPolicy") in ("Retain", "Snapshot", "RetainExceptOnCreate")
    }


def test_the_teardown_knows_every_kind_prod_retains(prod_synth: Synthesized) -> None:
    kinds = {
        TEARDOWN_KIND.get(resource["Type"], resource["Type"]) for resource in retained(prod_synth).values()
    }
    assert kinds == RETAINED_BY_PROD


def test_every_retained_resource_carries_the_tags_the_teardown_reads(prod_synth: Synthesized) -> None:
    for logical_id, resource in retained(prod_synth).items():
        properties = resource["Properties"]
        # Cognito keeps its tags as a map (UserPoolTags); the other kinds as a Key/Value list.
        tags = properties.get("UserPoolTags") or {
            tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])
        }
        assert tags.get("project") == "churnguard" and tags.get("stage") == "prod", logical_id


def test_a_dev_stack_retains_nothing(default_synth: Synthesized) -> None:
    assert retained(default_synth) == {}
