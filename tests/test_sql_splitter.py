"""churnguard.sql_splitter: statements split where the server would end them, and nowhere else."""

import pytest

from churnguard.sql_splitter import SqlSplitError, split_statements


def texts(sql: str) -> list[str]:
    return [statement.text for statement in split_statements(sql)]


def test_splits_on_semicolons_and_drops_the_terminator():
    assert texts("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n") == [
        "CREATE TABLE a (x INT)",
        "CREATE TABLE b (y INT)",
    ]


def test_last_statement_needs_no_semicolon():
    assert texts("SELECT 1;\nSELECT 2") == ["SELECT 1", "SELECT 2"]


def test_semicolons_inside_quotes_do_not_split():
    sql = """INSERT INTO t VALUES ('a;b', "c;d", 'it''s;', 'back\\';slash');\nSELECT `odd;name` FROM t;"""
    assert texts(sql) == [
        """INSERT INTO t VALUES ('a;b', "c;d", 'it''s;', 'back\\';slash')""",
        "SELECT `odd;name` FROM t",
    ]


def test_escaped_backslash_before_a_quote_closes_the_string():
    # 'a\\' is the two characters a and \, so the ; after it ends the statement.
    assert texts("SELECT 'a\\\\';SELECT 2") == ["SELECT 'a\\\\'", "SELECT 2"]


def test_comments_with_semicolons_do_not_split_and_leading_comments_are_not_statements():
    sql = "-- header; not a statement\n# another; comment\n/* block; comment */\nSELECT 1; -- trailing;\n"
    statements = split_statements(sql)
    assert [s.text for s in statements] == ["SELECT 1"]
    assert statements[0].line == 4


def test_double_dash_without_space_is_arithmetic_not_a_comment():
    assert texts("SELECT 5--1;SELECT 2") == ["SELECT 5--1", "SELECT 2"]


def test_executable_comment_starts_a_statement():
    assert texts("/*!40101 SET NAMES utf8mb4 */;") == ["/*!40101 SET NAMES utf8mb4 */"]


def test_begin_end_bodies_stay_whole_without_delimiter():
    sql = """
DROP FUNCTION IF EXISTS risk_band;
CREATE FUNCTION risk_band(p DOUBLE) RETURNS VARCHAR(8) DETERMINISTIC
BEGIN
  DECLARE band VARCHAR(8);
  IF p > 0.5 THEN SET band = 'high'; ELSE SET band = 'low'; END IF;
  CASE band WHEN 'high' THEN SET band = 'HIGH';
    ELSE SET band = CASE WHEN p > 0.2 THEN 'mid' ELSE 'low' END; END CASE;
  WHILE 0 DO SET band = band; END WHILE;
  RETURN band;
END;
SELECT risk_band(0.7);
"""
    statements = split_statements(sql)
    assert [s.number for s in statements] == [1, 2, 3]
    assert statements[1].text.startswith("CREATE FUNCTION risk_band")
    assert statements[1].text.endswith("RETURN band;\nEND")
    assert statements[1].line == 3
    assert statements[2].text == "SELECT risk_band(0.7)"


def test_case_expression_outside_a_body_is_one_statement():
    assert texts("SELECT CASE WHEN 1 THEN 'a;' ELSE 'b' END AS x; SELECT 2") == [
        "SELECT CASE WHEN 1 THEN 'a;' ELSE 'b' END AS x",
        "SELECT 2",
    ]


def test_begin_as_transaction_start_is_its_own_statement():
    assert texts("BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;") == [
        "BEGIN",
        "INSERT INTO t VALUES (1)",
        "COMMIT",
    ]


def test_keywords_ignore_literals_and_comments():
    (statement,) = split_statements("/* DROP TABLE x */ INSERT INTO t VALUES ('DROP TABLE y') -- DELETE\n")
    assert statement.keywords == ("INSERT", "INTO", "T", "VALUES")
    assert statement.first_line == "INSERT INTO t VALUES ('DROP TABLE y') -- DELETE"


@pytest.mark.parametrize(
    ("sql", "message", "line"),
    [
        ("SELECT 1;\nSELECT 'open\n", "quote ' is never closed", 2),
        ("SELECT 1;\n\n/* open", "comment /* is never closed", 3),
        ("CREATE FUNCTION f() RETURNS INT\nBEGIN\nRETURN 1;\n", "BEGIN or CASE without a matching END", 1),
        ("SELECT 1;\nDELIMITER $$\n", "DELIMITER is a mysql client command", 2),
    ],
)
def test_unsplittable_text_is_reported_with_its_line(sql, message, line):
    with pytest.raises(SqlSplitError) as raised:
        split_statements(sql)
    assert message in str(raised.value)
    assert raised.value.line == line


def test_only_comments_and_whitespace_yield_no_statements():
    assert split_statements("\n-- nothing here\n/* still nothing */\n") == []


def test_mixed_quotes_escapes_and_comment_styles_in_one_file():
    text = r"""
    -- a comment; with a semicolon
    INSERT INTO t VALUES ('a;b', "c;d", `e;f`, 'it''s', 'back\;x', 'esc\'q;');  # trailing; comment
    /* block; comment */ SELECT 1--1;
    SELECT 2;
    """
    assert texts(text) == [
        r"""INSERT INTO t VALUES ('a;b', "c;d", `e;f`, 'it''s', 'back\;x', 'esc\'q;')""",
        "SELECT 1--1",
        "SELECT 2",
    ]
