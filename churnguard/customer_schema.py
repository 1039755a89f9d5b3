"""The customer table's columns: one list that the loader, the SQL schema and the engine agree on.

The public telecom data set (Larose) names its columns in a long form ("Int'l Plan", "Churn?") or an
abbreviated one ("intplan", "label"); the project's tables and code use the snake_case names below.
"""

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "int", "decimal", "yes_no", "bool"]


@dataclass(frozen=True)
class CustomerColumn:
    """One column of the customer table, with the names it has in the public files."""

    name: str
    type: ColumnType
    public_name: str
    abbreviated_name: str


CUSTOMER_COLUMNS: tuple[CustomerColumn, ...] = (
    CustomerColumn("state", "text", "State", "st"),
    CustomerColumn("acc_length", "int", "Account Length", "acclen"),
    CustomerColumn("area_code", "int", "Area Code", "arcode"),
    CustomerColumn("phone", "text", "Phone", "phnum"),
    CustomerColumn("int_plan", "yes_no", "Int'l Plan", "intplan"),
    CustomerColumn("vmail_plan", "yes_no", "VMail Plan", "voice"),
    CustomerColumn("vmail_msg", "int", "VMail Message", "nummailmes"),
    CustomerColumn("day_mins", "decimal", "Day Mins", "tdmin"),
    CustomerColumn("day_calls", "int", "Day Calls", "tdcal"),
    CustomerColumn("day_charge", "decimal", "Day Charge", "tdchar"),
    CustomerColumn("eve_mins", "decimal", "Eve Mins", "temin"),
    CustomerColumn("eve_calls", "int", "Eve Calls", "tecal"),
    CustomerColumn("eve_charge", "decimal", "Eve Charge", "tecahr"),
    CustomerColumn("night_mins", "decimal", "Night Mins", "tnmin"),
    CustomerColumn("night_calls", "int", "Night Calls", "tn cal"),
    CustomerColumn("night_charge", "decimal", "Night Charge", "tnchar"),
    CustomerColumn("intl_mins", "decimal", "Intl Mins", "timin"),
    CustomerColumn("intl_calls", "int", "Intl Calls", "tical"),
    CustomerColumn("intl_charge", "decimal", "Intl Charge", "tichar"),
    CustomerColumn("cust_service_calls", "int", "CustServ Calls", "ncsc"),
    CustomerColumn("churn", "bool", "Churn?", "label"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in CUSTOMER_COLUMNS)
COLUMNS_BY_NAME: dict[str, CustomerColumn] = {column.name: column for column in CUSTOMER_COLUMNS}

# A customer is identified by area code and phone number, as in the call-centre lookups.
CUSTOMER_KEY: tuple[str, str] = ("area_code", "phone")
LABEL_COLUMN = "churn"
