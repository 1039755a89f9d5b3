"""Hand-built CloudFormation templates shaped like what `cdk synth` writes for churnguard's stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def interface_endpoint(service: str) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {
            "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, f".{service}"]]},
            "VpcEndpointType": "Interface",
            "SubnetIds": [{"Ref": "IsolatedSubnetA"}, {"Ref": "IsolatedSubnetB"}],
            "VpcId": {"Ref": "Vpc"},
        },
    }


def idle_isolated_stack() -> dict[str, Any]:
    """network=isolated, other options default: paused Serverless v2, serverless endpoint, 4 endpoints."""
    return {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {}},
            "IsolatedSubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {}},
            "IsolatedSubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {}},
            "ComprehendEndpoint": interface_endpoint("comprehend"),
            "SageMakerRuntimeEndpoint": interface_endpoint("sagemaker.runtime"),
            "RdsDataEndpoint": interface_endpoint("rds-data"),
            "SecretsManagerEndpoint": interface_endpoint("secretsmanager"),
            "S3Endpoint": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {"ServiceName": "com.amazonaws.us-east-1.s3", "VpcEndpointType": "Gateway"},
            },
            "Cluster": {
                "Type": "AWS::RDS::DBCluster",
                "Properties": {
                    "Engine": "aurora-mysql",
                    "ServerlessV2ScalingConfiguration": {"MinCapacity": 0, "MaxCapacity": 2},
                },
            },
            "ClusterWriter": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {"DBClusterIdentifier": {"Ref": "Cluster"}, "DBInstanceClass": "db.serverless"},
            },
            "DatabaseKey": {"Type": "AWS::KMS::Key", "Properties": {}},
            "BucketKey": {"Type": "AWS::KMS::Key", "Properties": {}},
            "ClusterSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
            "ModelBucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "FlowLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
            "Model": {"Type": "AWS::SageMaker::Model", "Properties": {}},
            "EndpointConfig": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ProductionVariants": [
                        {
                            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
                            "VariantName": "v",
                        }
                    ]
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]}
                },
            },
            "RecommendFunction": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "RecommendRole": {"Type": "AWS::IAM::Role", "Properties": {}},
            "BootstrapRole": {"Type": "AWS::IAM::Role", "Properties": {}},
            "DbBootstrap": {"Type": "Custom::DbBootstrap", "Properties": {}},
        }
    }


def always_on_stack() -> dict[str, Any]:
    """The expensive options: NAT gateway, provisioned Aurora instance, two real-time endpoint instances."""
    return {
        "Resources": {
            "NatIp": {"Type": "AWS::EC2::EIP", "Properties": {}},
            "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {"AllocationId": {"Ref": "NatIp"}}},
            "Cluster": {"Type": "AWS::RDS::DBCluster", "Properties": {"Engine": "aurora-mysql"}},
            "ClusterWriter": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {"DBClusterIdentifier": {"Ref": "Cluster"}, "DBInstanceClass": "db.r6g.large"},
            },
            "EndpointConfig": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ProductionVariants": [
                        {"InstanceType": "ml.m5.large", "InitialInstanceCount": 2, "VariantName": "v"}
                    ]
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {"EndpointConfigName": {"Ref": "EndpointConfig"}},
            },
        }
    }


def write_assembly(folder: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    """Writes templates plus a manifest.json naming them, as `cdk synth` does."""
    folder.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, body in stacks.items():
        (folder / f"{name}.template.json").write_text(json.dumps(body), encoding="utf-8")
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    (folder / "manifest.json").write_text(json.dumps({"artifacts": artifacts}), encoding="utf-8")
    return folder
