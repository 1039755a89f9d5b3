"""Loading and validating the customer table: every header form, every kind of problem reported at once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from churnguard.customer_schema import COLUMN_NAMES, CUSTOMER_COLUMNS
from churnguard.errors import UserError
from training.data import (
    DataValidationError,
    load_customers,
    load_customers_from_db,
    load_exported_customers,
    validate_customers,
)
from training.synthetic import generate_customers

LONG_HEADER = ", ".join(column.public_name for column in CUSTOMER_COLUMNS)
ABBREVIATED_HEADER = ", ".join(column.abbreviated_name for column in CUSTOMER_COLUMNS)
ROW_A = (
    "KS, 128, 415, 382-4657, no, yes, 25, 265.1, 110, 45.07, "
    "197.4, 99, 16.78, 244.7, 91, 11.01, 10, 3, 2.7, 1, False."
)
ROW_B = (
    "OH, 84, 408, 375-9999, yes, no, 0, 299.4, 71, 50.9, 61.9, 88, 5.26, 196.9, 89, 8.86, 6.6, 7, 1.78, 2, "
    + "True."
)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("header", [LONG_HEADER, ABBREVIATED_HEADER, ",".join(COLUMN_NAMES)])
def test_every_header_form_loads_to_snake_case_typed_columns(tmp_path: Path, header: str) -> None:
    customers = load_customers(write(tmp_path, header, ROW_A, ROW_B))
    assert list(customers.columns) == list(COLUMN_NAMES)
    assert customers["churn"].tolist() == [False, True]
    assert customers["int_plan"].tolist() == ["no", "yes"]
    assert customers["day_mins"].tolist() == [265.1, 299.4]
    assert customers["area_code"].tolist() == [415, 408]
    assert str(customers["acc_length"].dtype) == "int64"


def test_the_public_file_loads_with_its_known_counts(public_data_path: Path) -> None:
    customers = load_customers(public_data_path)
    assert len(customers) == 3333
    assert int(customers["churn"].sum()) == 483
    sample = customers.iloc[2]
    assert (sample["state"], sample["area_code"], sample["phone"]) == ("NJ", 415, "358-1921")


def test_every_problem_is_reported_with_its_row_and_column(tmp_path: Path) -> None:
    bad_minutes = ROW_A.replace("265.1", "lots")
    bad_plan = ROW_B.replace("yes, no, 0", "maybe, no, 0")
    bad_phone = ROW_A.replace("382-4657", "3824657").replace("415", "510", 1)
    path = write(tmp_path, LONG_HEADER, bad_minutes, bad_plan, ROW_A, bad_phone)
    with pytest.raises(DataValidationError) as caught:
        load_customers(path)
    problems = caught.value.problems
    assert any(
        "row 1 (line 2), column 'day_mins'" in problem and "'lots' is not a number" in problem
        for problem in problems
    )
    assert any(
        "row 2 (line 3), column 'int_plan'" in problem and "'maybe' is not yes or no" in problem
        for problem in problems
    )
    assert any("row 4 (line 5), column 'phone'" in problem and "NNN-NNNN" in problem for problem in problems)
    # Row 3 repeats row 1's customer: the duplicate names both rows, whatever else row 1 had wrong.
    assert any(
        "row 3 (line 4)" in problem and "duplicate customer 415/382-4657" in problem for problem in problems
    )
    assert len(problems) == 4
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, UserError)


def test_missing_columns_are_all_named_with_their_accepted_spellings(tmp_path: Path) -> None:
    header = ", ".join(
        column.public_name for column in CUSTOMER_COLUMNS if column.name not in ("day_mins", "churn")
    )
    row = "KS, 128, 415, 382-4657, no, yes, 25, 110, 45.07, 197.4, 99, 16.78, 244.7, 91, 11.01, 10, 3, 2.7, 1"
    with pytest.raises(DataValidationError) as caught:
        load_customers(write(tmp_path, header, row))
    assert caught.value.problems == [
        "header: missing column 'day_mins' (also accepted as 'Day Mins' or 'tdmin')",
        "header: missing column 'churn' (also accepted as 'Churn?' or 'label')",
    ]


def test_rows_with_the_wrong_number_of_values_and_empty_cells_are_reported(tmp_path: Path) -> None:
    short_row = ROW_A.rsplit(",", 1)[0]
    empty_cell = ROW_B.replace(", 88,", ", ,")
    with pytest.raises(DataValidationError) as caught:
        load_customers(write(tmp_path, LONG_HEADER, short_row, empty_cell))
    assert caught.value.problems == [
        "row 1 (line 2): 20 values for 21 columns",
        "row 2 (line 3), column 'eve_calls': empty value (or NULL)",
    ]


def test_whole_number_columns_reject_fractions_and_labels_reject_unknown_words(tmp_path: Path) -> None:
    row = ROW_A.replace(", 128,", ", 12.5,").replace("False.", "perhaps")
    with pytest.raises(DataValidationError) as caught:
        load_customers(write(tmp_path, LONG_HEADER, row))
    assert "row 1 (line 2), column 'acc_length': '12.5' is not a whole number" in caught.value.problems
    assert any(
        "column 'churn': 'perhaps' is not a churn label" in problem for problem in caught.value.problems
    )


def test_missing_and_empty_files_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_customers(tmp_path / "absent.csv")
    with pytest.raises(DataValidationError, match="the file is empty"):
        load_customers(write(tmp_path, ""))
    with pytest.raises(DataValidationError, match="header only"):
        load_customers(write(tmp_path, LONG_HEADER))


def test_synthetic_customers_survive_a_csv_round_trip_unchanged(tmp_path: Path) -> None:
    customers = generate_customers(300, seed=7)
    path = tmp_path / "synthetic.csv"
    customers.to_csv(path, index=False)
    loaded = load_customers(path)
    assert loaded.equals(customers)


class RecordingClient:
    """A SqlClient answering the loader's one query with rows shaped as PyMySQL returns them."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = rows
        self.statements: list[str] = []

    def query(self, sql: str, params: object = None) -> list[dict[str, object]]:
        self.statements.append(sql)
        return self.rows

    def execute(self, sql: str, params: object = None) -> int:
        raise AssertionError("the loader must not change the database")

    def transaction(self) -> object:
        raise AssertionError("the loader needs no transaction")

    def close(self) -> None:
        pass


def _db_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = dict(generate_customers(2, seed=1).iloc[0])
    for name in ("day_mins", "eve_mins", "night_mins", "intl_mins", "day_charge"):
        row[name] = Decimal(f"{row[name]:.2f}")  # DECIMAL columns arrive as Decimal, with trailing zeros
    row["churn"] = int(bool(row["churn"]))  # TINYINT(1)
    row.update(overrides)
    return row


def test_the_database_table_loads_through_the_same_validation() -> None:
    client = RecordingClient([_db_row()])
    customers = load_customers_from_db(client)
    expected = generate_customers(2, seed=1).iloc[0]
    assert customers.iloc[0]["day_mins"] == expected["day_mins"]
    assert bool(customers.iloc[0]["churn"]) == bool(expected["churn"])
    assert "FROM customers" in client.statements[0]


def test_database_problems_name_the_customer() -> None:
    client = RecordingClient([_db_row(phone="415-1", int_plan="Y")])
    with pytest.raises(DataValidationError) as caught:
        load_customers_from_db(client)
    assert str(caught.value).startswith("table customers: 2 problem(s)")
    assert all("row 1 (" in problem and "/415-1)" in problem for problem in caught.value.problems)


def _export_line(row: dict[str, object]) -> str:
    """One line as SELECT ... INTO OUTFILE writes it: schema order, text quoted, DECIMAL with 2 places."""
    cells = []
    for name in COLUMN_NAMES:
        value = row[name]
        if isinstance(value, str):
            cells.append(f'"{value}"')
        elif isinstance(value, bool):
            cells.append(str(int(value)))
        elif isinstance(value, float):
            cells.append(f"{value:.2f}")
        else:
            cells.append(str(value))
    return ",".join(cells)


def test_a_database_export_loads_to_the_same_table(tmp_path: Path) -> None:
    customers = generate_customers(40, seed=8)
    export = tmp_path / "customers.csv"
    export.write_text("\n".join(_export_line(row) for row in customers.to_dict(orient="records")) + "\n")
    assert load_exported_customers(export).equals(customers)


def test_aurora_part_files_are_read_in_order_and_nulls_reported(tmp_path: Path) -> None:
    customers = generate_customers(6, seed=8)
    lines = [_export_line(row) for row in customers.to_dict(orient="records")]
    (tmp_path / "customers.part_00000").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "customers.part_00001").write_text("\n".join(lines[3:]) + "\n")
    assert load_exported_customers(tmp_path).equals(customers)

    lines[4] = "\\N," + lines[4].split(",", 1)[1]  # a NULL state
    (tmp_path / "customers.part_00001").write_text("\n".join(lines[3:]) + "\n")
    with pytest.raises(DataValidationError) as caught:
        load_exported_customers(tmp_path)
    assert caught.value.problems == ["customers.part_00001 line 2, column 'state': empty value (or NULL)"]


def test_an_in_memory_table_is_checked_like_a_file() -> None:
    customers = generate_customers(20, seed=8)
    assert validate_customers(customers).equals(customers)
    floats = customers.astype({"area_code": float})
    floats.loc[4, "area_code"] = 415.5
    floats.loc[6, "day_mins"] = float("nan")
    with pytest.raises(DataValidationError) as caught:
        validate_customers(floats.drop(columns=["vmail_msg"]))
    assert caught.value.problems == ["missing column 'vmail_msg'"]
    with pytest.raises(DataValidationError) as caught:
        validate_customers(floats)
    assert "row 5, column 'area_code': '415.5' is not a whole number" in caught.value.problems
    assert "row 7, column 'day_mins': empty value (or NULL)" in caught.value.problems


def test_problems_are_listed_in_row_order_as_the_file_reads(tmp_path: Path) -> None:
    bad_minutes_late = ROW_B.replace("299.4", "lots")
    bad_plan_early = ROW_A.replace("no, yes, 25", "maybe, yes, 25")
    short_row = ROW_A.rsplit(",", 1)[0]
    path = write(tmp_path, LONG_HEADER, bad_plan_early, short_row, bad_minutes_late)
    with pytest.raises(DataValidationError) as caught:
        load_customers(path)
    assert caught.value.problems == [
        "row 1 (line 2), column 'int_plan': 'maybe' is not yes or no",
        "row 2 (line 3): 20 values for 21 columns",
        "row 3 (line 4), column 'day_mins': 'lots' is not a number",
    ]


def test_a_headerless_export_given_as_data_is_recognised_and_read_as_one(tmp_path: Path) -> None:
    from training.data import EXPORT_FORMAT, SOURCE_FORMAT

    customers = generate_customers(30, seed=8)
    export = tmp_path / "customers.csv"
    export.write_text("\n".join(_export_line(row) for row in customers.to_dict(orient="records")) + "\n")

    table = load_customers(export)

    assert table.equals(customers)
    assert table.attrs[SOURCE_FORMAT] == EXPORT_FORMAT
    assert load_customers(write(tmp_path, LONG_HEADER, ROW_A)).attrs.get(SOURCE_FORMAT) is None


def test_train_says_it_read_a_headerless_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from churnguard.cli import main

    customers = generate_customers(400, seed=8)
    export = tmp_path / "customers.csv"
    export.write_text("\n".join(_export_line(row) for row in customers.to_dict(orient="records")) + "\n")

    assert main(["train", "--data", str(export), "--out", str(tmp_path / "model"), "--trials", "2"]) == 0
    assert "has no header line: read as a table export" in capsys.readouterr().err
