"""Decides whether a resource is the project's: its name starts with NAME_PREFIX AND it carries PROJECT_TAGS.

Both are required, so a resource another team tagged by mistake, or one whose name merely starts the
same way, is never touched. The prefix must end at a word boundary: `churnguard-model` and
`ChurnguardStack` match, `churnguardian-prod` does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from churnguard.constants import NAME_PREFIX, PROJECT_TAGS

CLOUDFORMATION_STACK_TAG = "aws:cloudformation:stack-name"


def has_project_name(name: str) -> bool:
    if not name.lower().startswith(NAME_PREFIX.lower()):
        return False
    rest = name[len(NAME_PREFIX) :]
    return not rest or not rest[0].isalnum() or rest[0].isupper()


def has_project_tags(tags: Mapping[str, str]) -> bool:
    return all(tags.get(key) == value for key, value in PROJECT_TAGS.items())


def tags_as_dict(tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None) -> dict[str, str]:
    """Tags as a plain dict, whichever shape the service returns (Key/Value, key/value, TagKey/TagValue)."""
    if tags is None:
        return {}
    if isinstance(tags, Mapping):
        return {str(key): str(value) for key, value in tags.items()}
    result = {}
    for tag in tags:
        key = tag.get("Key", tag.get("key", tag.get("TagKey")))
        value = tag.get("Value", tag.get("value", tag.get("TagValue", "")))
        if key is not None:
            result[str(key)] = str(value)
    return result


def is_project_resource(name: str, tags: Mapping[str, str]) -> bool:
    return has_project_name(name) and has_project_tags(tags)
