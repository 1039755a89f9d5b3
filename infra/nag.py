"""cdk-nag in every synthesis: AwsSolutions findings fail `cdk synth` unless acknowledged with a reason.

Acknowledgements are made next to the construct that causes them (narrowest construct, one finding
id each) through `acknowledge`, so the reason sits beside the code a reviewer is reading.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_nag_checks(app: cdk.App) -> None:
    """Register the AwsSolutions rule pack as a validation plugin: findings make synthesis fail."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Accept one finding (`AwsSolutions-IAM5[Resource::*]` style id) on `construct` and its children."""
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of a construct's resource, as finding ids quote it (`<Id.Arn>`)."""
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnElement), f"{construct.node.path} has no CloudFormation resource"
    return cdk.Stack.of(construct).resolve(resource.logical_id)
