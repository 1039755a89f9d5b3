"""sql/templates statements with a file or S3 location embedded as a checked literal.

Aurora's SELECT ... INTO OUTFILE S3 and LOAD DATA FROM S3 (and MariaDB's INTO OUTFILE) take the
location as literal text, not as a bound parameter, and the Data API cannot bind it either. So the
location is embedded, and only when every character of it is one that cannot end or escape a SQL
string literal: `verify` (its export check) and `churnguard train --sagemaker` (the table export)
both render the templates through here.
"""

from __future__ import annotations

from churnguard.sql_splitter import split_statements
from churnguard.sqlgen.files import read_template

SAFE_LOCATION_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:")


class UnsafeLocation(ValueError):
    """A location holds characters that will not be embedded in SQL, or a template lost its placeholder."""


def location_literal(location: str) -> str:
    """`location` as a SQL literal, refused unless it holds only SAFE_LOCATION_CHARACTERS."""
    if not location or not set(location) <= SAFE_LOCATION_CHARACTERS:
        raise UnsafeLocation(f"location {location!r} holds characters that will not be embedded in SQL")
    return f"'{location}'"


def template_with_location(name: str, placeholder: str, location: str) -> str:
    """The one statement of sql/templates/`name` with `%(placeholder)s` replaced by the location literal."""
    (statement,) = split_statements(read_template(name))
    marker = f"%({placeholder})s"
    if statement.text.count(marker) != 1:
        raise UnsafeLocation(f"{name} does not take {marker} exactly once")
    return statement.text.replace(marker, location_literal(location))
