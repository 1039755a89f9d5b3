"""What the API user holds, read from SHOW GRANTS, against what the bootstrap grants it
(churnguard.bootstrap.app_user): every extra privilege or role and every missing one, in words.

SHOW GRANTS answers GRANT statements, written a little differently by MariaDB (the local stand-in) and
MySQL 8.0 (Aurora MySQL 3): identifiers in backticks or quotes, `GRANT USAGE ON *.*` for "no global
privilege", role grants as `GRANT role1,role2 TO ...` (MySQL 8.0: `role`@`host`), column lists,
`WITH GRANT OPTION` / `WITH ADMIN OPTION`, MariaDB's `IDENTIFIED BY PASSWORD '<hash>'` and
`SET DEFAULT ROLE ... FOR ...` lines, MySQL 8.0's partial-revoke `REVOKE` lines. Both are read into
one AccountGrants. A line that is none of these is refused (UnreadableGrant), never skipped: a grant
verify cannot read is a grant it cannot vouch for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from churnguard.bootstrap.app_user import (
    API_DATABASE_PRIVILEGES,
    API_TABLE_PRIVILEGES,
    S3_ROLES,
    api_aurora_roles,
)

# What an unexpected privilege or role lets the API user do, said in the failure (by the privilege's
# name without its column list). Privileges not listed are named without an explanation.
_SCHEMA_CHANGE = "change the schema"
_S3_LOAD, _S3_EXPORT = "load files from S3 into tables", "write query results to files in S3"
WHAT_IT_ALLOWS: dict[str, str] = {
    # The Aurora MySQL 3 roles, and the Aurora MySQL 2 privileges they replace.
    "AWS_LOAD_S3_ACCESS": _S3_LOAD,
    "AWS_SELECT_S3_ACCESS": _S3_EXPORT,
    "LOAD FROM S3": _S3_LOAD,
    "SELECT INTO S3": _S3_EXPORT,
    "DELETE": "remove rows",
    "UPDATE": "change rows already written",
    "FILE": "read and write files on the database server",
    "GRANT OPTION": "pass its privileges on to other accounts",
    "ADMIN OPTION": "grant the role to other accounts",
    "ALL PRIVILEGES": "do anything at that level",
    "CREATE USER": "create and change database users",
    "SUPER": "administer the server",
    **dict.fromkeys(
        (
            "CREATE",
            "DROP",
            "ALTER",
            "INDEX",
            "REFERENCES",
            "TRIGGER",
            "EVENT",
            "CREATE VIEW",
            "CREATE ROUTINE",
            "ALTER ROUTINE",
        ),
        _SCHEMA_CHANGE,
    ),
}
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z0-9_$]+")
_TOKEN = re.compile(
    r"\s*(?:(?P<backtick>`(?:[^`]|``)*`)"
    r"|(?P<quoted>'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\")"
    r"|(?P<punctuation>[(),.@*])"
    r"|(?P<word>[^\s(),.@*`'\"]+))"
)
_ROUTINE_KINDS = frozenset({"TABLE", "FUNCTION", "PROCEDURE"})


class UnreadableGrant(ValueError):
    """A SHOW GRANTS line verify cannot read; the message quotes it without any password hash."""


@dataclass(frozen=True, order=True)
class Privilege:
    """One privilege on one object: `name` as SHOW GRANTS spells it, upper case (`SELECT`,
    `LOAD FROM S3`, `SELECT (phone)` for a column list, `GRANT OPTION`); `on` the object with plain
    identifiers unquoted (`*.*`, `churnguard.*`, `churnguard.customers`, `PROCEDURE churnguard.p`)."""

    name: str
    on: str

    def __str__(self) -> str:
        return f"{self.name} on {self.on}"

    @property
    def base_name(self) -> str:
        """The privilege without its column list: what WHAT_IT_ALLOWS is keyed by."""
        return self.name.split(" (", 1)[0]


@dataclass(frozen=True)
class AccountGrants:
    """An account's privileges, the roles granted to it, and which of those are its default roles
    (active on every connection without SET ROLE)."""

    privileges: frozenset[Privilege]
    roles: frozenset[str]
    default_roles: frozenset[str]


class _Token(NamedTuple):
    kind: str  # "name" (a quoted identifier or string), "word" or "punctuation"
    text: str


_OPEN, _CLOSE, _COMMA, _AT, _DOT, _STAR = (_Token("punctuation", mark) for mark in "(),@.*")


def object_name(database: str, table: str | None = None) -> str:
    """How Privilege.on names a database (`db.*`) or one of its tables (`db.table`)."""
    return f"{_shown(database)}.{'*' if table is None else _shown(table)}"


def role_name(name: str, host: str) -> str:
    """A role as AccountGrants names it: alone on host % (every role the bootstrap grants), else
    `name@host`, so that a role of the same name on another host is not taken for it."""
    return name if host == "%" else f"{name}@{host}"


def expected_api_grants(database: str, *, aurora: bool, bedrock: bool) -> AccountGrants:
    """What the bootstrap grants the API user on `database` (churnguard.bootstrap.app_user's
    API_DATABASE_PRIVILEGES and API_TABLE_PRIVILEGES), and on Aurora its roles, all of them default
    roles; MariaDB has no AWS_* roles, so locally it gets none."""
    privileges = {Privilege(name, object_name(database)) for name in API_DATABASE_PRIVILEGES}
    for listed, table in API_TABLE_PRIVILEGES:
        privileges |= {Privilege(_spelling(name), object_name(database, table)) for name in listed.split(",")}
    roles = frozenset(api_aurora_roles(bedrock=bedrock)) if aurora else frozenset()
    return AccountGrants(frozenset(privileges), roles, roles)


def parse_show_grants(lines: Iterable[str]) -> AccountGrants:
    """The SHOW GRANTS FOR <account> lines of one account (MariaDB or MySQL 8.0) as AccountGrants;
    UnreadableGrant for a line of another form."""
    privileges: set[Privilege] = set()
    roles: set[str] = set()
    default_roles: set[str] = set()
    for line in lines:
        tokens = _tokens(line)
        words = [token.text.upper() if token.kind == "word" else None for token in tokens[:3]]
        if words[:1] == ["GRANT"]:
            _read_grant(line, tokens[1:], privileges, roles)
        elif words[:1] == ["REVOKE"]:
            continue  # a partial revoke narrows a global grant, which is itself an extra privilege
        elif words == ["SET", "DEFAULT", "ROLE"]:  # MariaDB's line for its one default role
            default_roles |= _roles(line, tokens[3 : _position(tokens, "FOR", line)])
        else:
            raise UnreadableGrant(f"a SHOW GRANTS line verify cannot read: {_without_secrets(line)!r}")
    return AccountGrants(frozenset(privileges), frozenset(roles), frozenset(default_roles))


def grant_differences(found: AccountGrants, expected: AccountGrants) -> list[str]:
    """One sentence per difference, the extra ones (what the API user should not hold) first."""
    extra_roles = sorted(found.roles - expected.roles)
    problems = [_holds(role, role) for role in extra_roles]
    problems += [
        _holds(str(privilege), privilege.base_name)
        for privilege in sorted(found.privileges - expected.privileges)
    ]
    problems += [
        f"the API user has {role} as a default role; the bootstrap does not make it one"
        for role in sorted(found.default_roles - expected.default_roles - set(extra_roles))
    ]
    problems += [
        f"the API user lacks the role {role}, which the bootstrap grants"
        for role in sorted(expected.roles - found.roles)
    ]
    problems += [
        f"the API user lacks {privilege}, which the bootstrap grants"
        for privilege in sorted(expected.privileges - found.privileges)
    ]
    problems += [
        f"the API user holds {role} but not as a default role, so the API's connections do not have it active"
        for role in sorted((expected.default_roles & found.roles) - found.default_roles)
    ]
    return problems


def grants_summary(user: str, grants: AccountGrants) -> str:
    """One line for a pass: each privilege with where it holds, the default roles, what is absent."""
    ons: dict[str, list[str]] = {}
    for privilege in sorted(grants.privileges):
        ons.setdefault(privilege.name, []).append(privilege.on)
    held = [f"{name} on {_objects(names)}" for name, names in ons.items()]
    roles = sorted(grants.default_roles)
    held.append(f"default roles {', '.join(roles)}" if roles else "no role")
    names = {privilege.base_name for privilege in grants.privileges}
    absent = [
        label
        for label, present in (
            ("no S3 role", bool(grants.roles & set(S3_ROLES)) or not roles),  # "no role" says it
            ("no DELETE", "DELETE" in names),
            ("no schema change", any(WHAT_IT_ALLOWS.get(name) == _SCHEMA_CHANGE for name in names)),
        )
        if not present
    ]
    return f"{user} holds what the bootstrap grants and nothing else: {'; '.join(held)}; {', '.join(absent)}"


def _holds(what: str, name: str) -> str:
    allows = WHAT_IT_ALLOWS.get(name)
    which = f", which lets it {allows}" if allows else ""
    return f"the API user holds {what}{which}; the bootstrap does not grant it"


def _objects(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    kind = "tables" if not any(name.endswith(".*") for name in names) else "objects"
    return f"{len(names)} {kind}"


def _read_grant(line: str, tokens: list[_Token], privileges: set[Privilege], roles: set[str]) -> None:
    """`tokens` after GRANT: `<privileges> ON <object> TO <account> [tail]` or `<roles> TO <account>
    [WITH ADMIN OPTION]`; the tail's words say whether GRANT or ADMIN OPTION comes with it."""
    to = _position(tokens, "TO", line)
    tail = " ".join(token.text.upper() for token in tokens[to + 1 :] if token.kind == "word")
    on = _position(tokens[:to], "ON", line, required=False)
    if on is None:
        granted = _roles(line, tokens[:to])
        roles |= granted
        if "ADMIN OPTION" in tail:
            privileges |= {Privilege("ADMIN OPTION", f"role {role}") for role in granted}
        return
    target = _object(line, tokens[on + 1 : to])
    for item in _items(tokens[:on]):
        name = _privilege_name(line, item)
        if name != "USAGE":  # USAGE is "no privilege": the line every account has
            privileges.add(Privilege(name, target))
    if "GRANT OPTION" in tail:
        privileges.add(Privilege("GRANT OPTION", target))


def _privilege_name(line: str, item: list[_Token]) -> str:
    """`SELECT`, `SHOW VIEW`, `ALL PRIVILEGES`; with a column list `SELECT (a, b)`."""
    opening = next((index for index, token in enumerate(item) if token == _OPEN), len(item))
    words = item[:opening]
    if not words or any(token.kind != "word" for token in words):
        raise UnreadableGrant(f"a privilege verify cannot read in {_without_secrets(line)!r}")
    name = _spelling(" ".join(token.text for token in words))
    if opening == len(item):
        return name
    columns = [token for token in item[opening + 1 : -1] if token != _COMMA]
    if item[-1] != _CLOSE or not columns or any(token.kind == "punctuation" for token in columns):
        raise UnreadableGrant(f"a column list verify cannot read in {_without_secrets(line)!r}")
    return f"{name} ({', '.join(_shown(token.text) for token in columns)})"


def _object(line: str, tokens: list[_Token]) -> str:
    """`*.*`, `db.*`, `db.table`, with TABLE/FUNCTION/PROCEDURE kept in front; PROXY's account."""
    kind = ""
    if tokens and tokens[0].kind == "word" and tokens[0].text.upper() in _ROUTINE_KINDS:
        kind, tokens = tokens[0].text.upper() + " ", tokens[1:]
    if len(tokens) == 3 and tokens[1] == _AT:  # GRANT PROXY ON ''@''
        return f"'{tokens[0].text}'@'{tokens[2].text}'"
    if len(tokens) == 3 and tokens[1] == _DOT:
        return kind + ".".join(_level_part(token) for token in (tokens[0], tokens[2]))
    raise UnreadableGrant(f"an object verify cannot read in {_without_secrets(line)!r}")


def _level_part(token: _Token) -> str:
    return "*" if token == _STAR else _shown(token.text)


def _roles(line: str, tokens: list[_Token]) -> set[str]:
    """`role`, `role`@`host` (MySQL 8.0) or a list of them; a role on host % is named alone."""
    roles = set()
    for item in _items(tokens):
        if len(item) == 1 and item[0].kind != "punctuation":
            roles.add(item[0].text)
        elif len(item) == 3 and item[1] == _AT and item[0].kind != "punctuation":
            roles.add(role_name(item[0].text, item[2].text))
        else:
            raise UnreadableGrant(f"a role verify cannot read in {_without_secrets(line)!r}")
    return roles


def _items(tokens: list[_Token]) -> list[list[_Token]]:
    """`tokens` split at the commas outside parentheses (a column list keeps its own)."""
    items: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token == _COMMA and depth == 0:
            items.append([])
            continue
        depth += (token == _OPEN) - (token == _CLOSE)
        items[-1].append(token)
    return [item for item in items if item]


def _position(tokens: list[_Token], keyword: str, line: str, *, required: bool = True) -> int | None:
    """Where the unquoted `keyword` first stands outside parentheses."""
    depth = 0
    for index, token in enumerate(tokens):
        depth += (token == _OPEN) - (token == _CLOSE)
        if depth == 0 and token.kind == "word" and token.text.upper() == keyword:
            return index
    if required:
        raise UnreadableGrant(
            f"a SHOW GRANTS line verify cannot read (no {keyword}): {_without_secrets(line)!r}"
        )
    return None


def _tokens(line: str) -> list[_Token]:
    tokens: list[_Token] = []
    position, end = 0, len(line.rstrip())
    while position < end:
        match = _TOKEN.match(line, position)
        if match is None:
            raise UnreadableGrant(f"a SHOW GRANTS line verify cannot read: {_without_secrets(line)!r}")
        position = match.end()
        if match["backtick"]:
            tokens.append(_Token("name", match["backtick"][1:-1].replace("``", "`")))
        elif match["quoted"]:
            quoted = match["quoted"]
            text = quoted[1:-1].replace(quoted[0] * 2, quoted[0])
            tokens.append(_Token("name", re.sub(r"\\(.)", r"\1", text)))
        elif match["punctuation"]:
            tokens.append(_Token("punctuation", match["punctuation"]))
        else:
            tokens.append(_Token("word", match["word"]))
    return tokens


def _spelling(name: str) -> str:
    """A privilege name as SHOW GRANTS spells it: upper case, single spaces, ALL as ALL PRIVILEGES."""
    spelt = " ".join(name.upper().split())
    return "ALL PRIVILEGES" if spelt == "ALL" else spelt


def _shown(identifier: str) -> str:
    """A plain identifier as is, any other in backticks, so that two objects never read the same."""
    if _PLAIN_IDENTIFIER.fullmatch(identifier):
        return identifier
    return "`" + identifier.replace("`", "``") + "`"


def _without_secrets(line: str) -> str:
    """MariaDB shows the password hash (`IDENTIFIED BY PASSWORD '*…'`): never repeat it."""
    return re.sub(r"\bIDENTIFIED\b.*", "IDENTIFIED …", line, flags=re.IGNORECASE)
