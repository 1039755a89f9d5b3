"""The whole churn-prevention workflow offline, as `cdk deploy` runs it in the cloud, in one call.

Each step uses the same code as its cloud counterpart: the schema and the call-centre statement are
the SQL that Aurora runs, the training pipeline is the one that packages the SageMaker artifact, and
the incentive engine is the one behind the recommend API. Only the database is a throwaway local
MariaDB server, stopped and deleted at the end whatever happens.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from churnguard.agent_identity import local_actor
from churnguard.constants import DATABASE_NAME, DEFAULT_SEED, DEFAULT_SYNTHETIC_CUSTOMERS
from churnguard.db import PyMySqlClient, connect
from churnguard.engine.recommend import Engine, latest_message
from churnguard.engine.request import validate_request
from churnguard.local.install import install_data, install_functions
from churnguard.local.server import start_server, stop_server
from churnguard.local.state import LocalServer
from churnguard.sqlgen.files import run_template
from churnguard.sqlgen.statements import SCORES_VIEW

if TYPE_CHECKING:
    import pandas as pd

    from training.pipeline import TrainingResult
    from training.progress import Progress

DEFAULT_TRIALS = 30
# Besides the reference's two sample calls, the demo answers this many customers from each band of
# the risk ranking (customers ordered by churn probability; bands as fractions of that order), each
# with the message they have on file. Churners are a minority, so the top band is narrow.
CUSTOMERS_PER_RISK_BAND = 2
RISK_BANDS: dict[str, tuple[float, float]] = {
    "lower half of risk": (0.0, 0.5),
    "50-90th percentile of risk": (0.5, 0.9),
    "top 10% of risk": (0.9, 1.0),
}


@dataclass(frozen=True)
class DemoCall:
    """One call to the call centre: who calls, what they write, and why the demo makes it."""

    area_code: int
    phone: str
    message: str
    why: str


# The reference notebook's two sample calls, with its messages, as the issue tracker quotes them.
# The synthetic table plants these two customers with the profiles below (training.synthetic); in a
# real customer file they are whoever has those numbers, labelled by the risk the model measures.
REFERENCE_CALLS: tuple[DemoCall, ...] = (
    DemoCall(415, "358-1921", "You morons! You charged me extra again!", "planted demo customer, high risk"),
    DemoCall(408, "375-9999", "How do I dial Morocco?", "planted demo customer, low risk"),
)


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced: the answers it printed and where the files are."""

    answers: list[dict[str, Any]]
    calls: list[DemoCall]
    training: TrainingResult
    export_path: Path
    customers: int


def run_demo(
    *,
    out_dir: Path,
    data: Path | None = None,
    customers: int = DEFAULT_SYNTHETIC_CUSTOMERS,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    progress: Progress,
) -> DemoResult:
    """Run every step against a private MariaDB server that is always stopped and deleted afterwards."""
    # Imported here, not at the top: `churnguard` builds every command's parser from this module's
    # defaults, and the training stack (xgboost, scikit-learn, pandas) takes seconds to import.
    from training.data import load_customers
    from training.synthetic import generate_customers

    out_dir = Path(out_dir)
    step = _Steps(progress)
    # The input is read and validated before anything is started or written: a missing or malformed
    # file stops the demo with the loader's error, not after a server has been set up for nothing.
    table = step(
        f"reading {data}" if data else f"generating {customers} synthetic customers and messages",
        lambda: load_customers(data) if data else generate_customers(customers, seed=seed),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    server_dir = Path(tempfile.mkdtemp(prefix="churnguard-demo-"))
    server: LocalServer | None = None
    try:
        server = step("starting a throwaway MariaDB server", lambda: start_server(server_dir))
        with (
            closing(connect(server.url)) as client,
            closing(connect(f"{server.admin_url}{DATABASE_NAME}")) as admin,
        ):
            return _workflow(
                client,
                admin,
                out_dir,
                table,
                planted=data is None,
                trials=trials,
                seed=seed,
                step=step,
                progress=progress,
            )
    finally:
        step("stopping the server and deleting its files", lambda: _stop(server, server_dir))


def _workflow(
    client: PyMySqlClient,
    admin: PyMySqlClient,
    out_dir: Path,
    table: pd.DataFrame,
    *,
    planted: bool,
    trials: int,
    seed: int,
    step: _Steps,
    progress: Progress,
) -> DemoResult:
    from training.data import load_exported_customers  # late: see run_demo
    from training.pipeline import train
    from training.synthetic import generate_messages

    messages = generate_messages(table, seed=seed)
    step(
        "creating the schema and loading customers and messages",
        lambda: install_data(client, table, messages),
    )

    export_path = out_dir / "export" / "customers.csv"
    step(
        "exporting the customers table (local form of SELECT INTO OUTFILE S3)",
        lambda: _export(admin, export_path),
    )
    exported = load_exported_customers(export_path)
    origin = "synthetic customers" if planted else "your --data file"
    training = train(
        exported,
        out_dir / "model",
        trials=trials,
        seed=seed,
        progress=progress,
        data_source=f"{export_path} (the demo database's customers table: {origin})",
    )

    step(
        "installing will_churn, one-hot helpers and the sentiment functions",
        lambda: install_functions(client, training.out_dir),
    )
    calls = _demo_calls(client, table, seed, planted=planted)
    engine = Engine.load(training.out_dir)
    agent = local_actor(None).agent  # the demo's offers are recorded as made by whoever runs it
    answers = step(
        f"answering {len(calls)} calls with the call-centre statement and the incentive engine",
        lambda: [
            engine.recommend(client, validate_request(call.area_code, call.phone, call.message), agent=agent)
            for call in calls
        ],
    )
    return DemoResult(
        answers=answers, calls=calls, training=training, export_path=export_path, customers=len(table)
    )


def _export(admin: PyMySqlClient, export_path: Path) -> None:
    """The server itself writes the file, as Aurora writes to S3; it refuses to overwrite one."""
    export_path.parent.mkdir(parents=True, exist_ok=True)
    export_path.unlink(missing_ok=True)
    run_template(admin, "export_customers.local.sql", {"path": str(export_path.resolve())})


def _demo_calls(
    client: PyMySqlClient, customers: pd.DataFrame, seed: int, *, planted: bool
) -> list[DemoCall]:
    """The reference calls (when those customers exist) and customers from across the risk range,
    each with the latest message they have on file, picked reproducibly by seed.

    The reference calls are labelled as planted demo customers on synthetic data; on a real customer
    file (`planted=False`) by the band of the risk ranking the model puts them in.
    """
    import numpy as np  # late, like the training stack in _workflow

    known = set(zip(customers["area_code"].astype(int), customers["phone"], strict=True))
    calls = [call for call in REFERENCE_CALLS if (call.area_code, call.phone) in known]
    taken = {(call.area_code, call.phone) for call in calls}
    ranked = client.query(
        f"SELECT area_code, phone, churn_probability FROM {SCORES_VIEW}"
        " ORDER BY churn_probability, area_code, phone"
    )
    if not planted:
        rank = {(int(row["area_code"]), row["phone"]): i for i, row in enumerate(ranked)}
        calls = [
            DemoCall(
                call.area_code,
                call.phone,
                call.message,
                f"reference call, {_band_of(rank[(call.area_code, call.phone)] / len(ranked))}",
            )
            for call in calls
        ]
    scores = [row for row in ranked if (int(row["area_code"]), row["phone"]) not in taken]
    rng = np.random.default_rng(seed)
    for band, (low, high) in RISK_BANDS.items():
        positions = np.arange(int(low * len(scores)), int(high * len(scores)))
        if len(positions) == 0:
            continue
        picks = rng.choice(positions, size=min(CUSTOMERS_PER_RISK_BAND, len(positions)), replace=False)
        for position in sorted(picks):
            row = scores[int(position)]
            area_code, phone = int(row["area_code"]), str(row["phone"])
            message = latest_message(client, area_code=area_code, phone=phone)
            if message:
                calls.append(DemoCall(area_code, phone, message, band))
    return calls


def _band_of(fraction: float) -> str:
    """The RISK_BANDS name for a position in the risk ranking (0 = lowest risk, below 1)."""
    return next(band for band, (low, high) in RISK_BANDS.items() if low <= fraction < high)


def _stop(server: LocalServer | None, server_dir: Path) -> None:
    if server is not None:
        stop_server(server)
    shutil.rmtree(server_dir, ignore_errors=True)


class _Steps:
    """Runs one named step with the progress display, so every step shows its name and duration."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def __call__(self, name: str, action: Callable[[], Any]) -> Any:
        self._progress.begin(name)
        result = action()
        self._progress.end()
        return result


def format_answers(result: DemoResult) -> str:
    """The table the demo prints: customer, risk, sentiment, top drivers, offer.

    Drivers are shown by their plain label (correlated usage features as one driver, see
    churnguard.driver_groups), with the customer's value when the driver reads one column.
    """
    header = ("customer", "why", "risk", "sentiment", "top churn drivers (log-odds)", "offer", "rule")
    rows = [header]
    for call, answer in zip(result.calls, result.answers, strict=True):
        drivers = ", ".join(_driver_cell(driver) for driver in answer["drivers"][:3])
        arm = f" (arm {answer['arm']})" if answer["arm"] else ""
        rows.append(
            (
                f"{call.area_code} {call.phone}",
                call.why,
                f"{answer['churn_probability']:.2f}",
                f"{answer['sentiment']} {answer['confidence']:.2f}",
                drivers,
                f"{answer['offer']}{arm}",
                answer["rule"],
            )
        )
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _driver_cell(driver: dict[str, Any]) -> str:
    """'customer service calls 6 (+3.84)', 'minutes and charges (+0.68)'."""
    columns = driver["columns"]
    value = f" {next(iter(columns.values()))}" if len(columns) == 1 else ""
    return f"{driver.get('label', driver['feature'])}{value} ({driver['contribution']:+.2f})"
