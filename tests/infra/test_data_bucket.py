"""The data bucket and its access-log bucket: private, encrypted, TLS-only, logged, scratch expiring."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synthesized


def buckets(synth: Synthesized) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    found = synth.resources("AWS::S3::Bucket")
    (data,) = [(k, v) for k, v in found.items() if k.startswith("DataBucketData")]
    (logs,) = [(k, v) for k, v in found.items() if k.startswith("DataBucketAccessLogs")]
    return data, logs


def test_buckets_are_private_encrypted_and_tls_only(every_synth: Synthesized) -> None:
    policies = every_synth.resources("AWS::S3::BucketPolicy").values()
    for logical_id, bucket in buckets(every_synth):
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        (policy,) = [p for p in policies if p["Properties"]["Bucket"] == {"Ref": logical_id}]
        deny_plain_http = [
            s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert deny_plain_http and deny_plain_http[0]["Principal"] == {"AWS": "*"}


def test_data_bucket_logs_access_and_expires_scratch_prefixes(default_synth: Synthesized) -> None:
    (_, data), (logs_id, _) = buckets(default_synth)
    props = data["Properties"]
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    rules = {rule["Prefix"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert set(rules) == {"tmp/", "exports/"}
    for rule in rules.values():
        assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == 7


def test_dev_buckets_are_emptied_and_removed_on_destroy(default_synth: Synthesized) -> None:
    for logical_id, bucket in buckets(default_synth):
        assert bucket["DeletionPolicy"] == "Delete"
        auto_delete = [
            r
            for r in default_synth.resources("Custom::S3AutoDeleteObjects").values()
            if r["Properties"]["BucketName"] == {"Ref": logical_id}
        ]
        assert len(auto_delete) == 1


def test_prod_buckets_are_retained(prod_synth: Synthesized) -> None:
    for _, bucket in buckets(prod_synth):
        assert bucket["DeletionPolicy"] == "Retain"
    assert not prod_synth.resources("Custom::S3AutoDeleteObjects")
