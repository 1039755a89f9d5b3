"""What counts as the project's: name prefix at a word boundary AND the project's tags."""

from __future__ import annotations

import pytest

from churnguard.teardown.ownership import has_project_name, is_project_resource, tags_as_dict


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("churnguard", True),
        ("churnguard-endpoint", True),
        ("churnguard_model", True),
        ("ChurnguardStack", True),
        ("churnguardstack-databucket1234", False),
        ("churnguardian-prod", False),
        ("my-churnguard-endpoint", False),
        ("billing", False),
        ("", False),
    ],
)
def test_name_prefix_must_end_at_a_word_boundary(name: str, expected: bool) -> None:
    assert has_project_name(name) is expected


def test_both_name_and_tags_are_required() -> None:
    assert is_project_resource("churnguard-x", {"project": "churnguard", "owner": "ops"})
    assert not is_project_resource("churnguard-x", {})
    assert not is_project_resource("churnguard-x", {"project": "billing"})
    assert not is_project_resource("billing-x", {"project": "churnguard"})


def test_tags_are_read_in_every_shape_services_return() -> None:
    expected = {"project": "churnguard"}
    assert tags_as_dict([{"Key": "project", "Value": "churnguard"}]) == expected
    assert tags_as_dict([{"TagKey": "project", "TagValue": "churnguard"}]) == expected
    assert tags_as_dict({"project": "churnguard"}) == expected
    assert tags_as_dict(None) == {}
