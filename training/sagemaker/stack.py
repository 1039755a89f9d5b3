"""What `churnguard train --sagemaker --stage STAGE` reads from the deployed stack's outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from churnguard.errors import UserError
from churnguard.verify.stack_outputs import StackOutputs, read_outputs, stack_name

# infra/stack.py declares these only with -c sagemaker_training=true (infra/training_role.py).
TRAINING_OUTPUTS = ("TrainingRoleArn", "TrainingKeyArn")


@dataclass(frozen=True)
class TrainingTarget:
    """The data bucket, the training role and its key, and the database (for the table export)."""

    stack: StackOutputs
    role_arn: str
    key_arn: str


def read_training_target(cloudformation: Any, stage: str, region: str) -> TrainingTarget:
    """The stack's outputs, including the training role's; a UserError saying how to get them if absent."""
    stack = read_outputs(cloudformation, stage, region)
    description = cloudformation.describe_stacks(StackName=stack_name(stage))["Stacks"][0]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in description.get("Outputs", [])}
    missing = [key for key in TRAINING_OUTPUTS if not outputs.get(key)]
    if missing:
        raise UserError(
            f"stack {stack.stack} has no output {missing[0]}: deploy it with SageMaker training on "
            "(make deploy CDK_ARGS='-c sagemaker_training=true'), or pass --bucket and --role-arn"
        )
    return TrainingTarget(stack=stack, role_arn=outputs["TrainingRoleArn"], key_arn=outputs["TrainingKeyArn"])
