"""Incentive-engine benchmark: per-customer drivers in pure Python (speed, agreement with xgboost),
rule decisions, engine load (the Lambda's cold-start share) and recommend latency end to end on a
local MariaDB (statement + rules + drivers + offers-log insert, one transaction).

Setup (not timed): a throwaway MariaDB server, 2,000 synthetic customers (seed 1729), a model trained
on them with 4 search trials. Prints one JSON line per figure.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xgboost

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from local_churnguard import churnguard_server  # noqa: E402  (bench/, the script's own folder)

from churnguard.db import PyMySqlClient, connect  # noqa: E402
from churnguard.engine.decide import decide  # noqa: E402
from churnguard.engine.recommend import Engine  # noqa: E402
from churnguard.engine.request import validate_request  # noqa: E402
from churnguard.model_folder import write_metadata  # noqa: E402
from training.pipeline import train  # noqa: E402
from training.synthetic import generate_customers  # noqa: E402

SEED = 1729
CUSTOMERS = 2000
TRIALS = 4
RECOMMEND_CALLS = 300
LARGE_MODEL_TREES = 300
MESSAGES = ("You morons! You charged me extra again!", "How do I dial Morocco?", "Thanks, all good now.")


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"benchmark": "engine", "name": name, "value": round(value, 6), "unit": unit, **extra}))


def main() -> int:
    customers = generate_customers(CUSTOMERS, seed=SEED)
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        model_dir = Path(scratch) / "model"
        train(customers, model_dir, trials=TRIALS, seed=SEED)
        started = time.perf_counter()
        engine = Engine.load(model_dir)
        emit(
            "engine_load",
            (time.perf_counter() - started) * 1000,
            "ms",
            trees=len(engine.explainer.ensemble.trees),
        )

        with churnguard_server(model_dir, customers, SEED) as server:
            client = connect(server.url)
            rows = client.query("SELECT * FROM customers ORDER BY area_code, phone")
            bench_drivers(engine, rows, model_dir, label="")
            large_dir = large_model(engine, rows, Path(scratch))
            started = time.perf_counter()
            large = Engine.load(large_dir)
            emit(
                "engine_load_large_model",
                (time.perf_counter() - started) * 1000,
                "ms",
                trees=LARGE_MODEL_TREES,
            )
            bench_drivers(large, rows, large_dir, label="_large_model")
            bench_decide(engine, rows)
            bench_recommend(engine, client, rows)
            client.close()
    return 0


def bench_drivers(engine: Engine, rows: list[dict], model_dir: Path, label: str) -> None:
    """Drivers' speed per customer, and their largest difference from xgboost's own contributions."""
    trees = len(engine.explainer.ensemble.trees)
    started = time.perf_counter()
    for row in rows:
        engine.explainer.top_drivers(row)
    seconds = time.perf_counter() - started
    emit(f"drivers_per_customer{label}", seconds / len(rows) * 1e6, "us", trees=trees, customers=len(rows))
    spec = engine.explainer.spec
    matrix = np.array([spec.values_for(row) for row in rows], dtype=np.float32)
    booster = xgboost.Booster(model_file=str(model_dir / "model.json"))
    expected = booster.predict(
        xgboost.DMatrix(matrix, feature_names=spec.names), pred_contribs=True, approx_contribs=True
    )
    ours = np.array([list(engine.explainer.contributions(row).values()) for row in rows])
    difference = float(np.abs(ours - expected).max())
    emit(f"drivers_max_abs_diff_vs_xgboost{label}", difference, "log-odds", trees=trees, customers=len(rows))


def large_model(engine: Engine, rows: list[dict], scratch: Path) -> Path:
    """The fixture-sized search keeps a small model; production models can hold hundreds of trees."""
    spec = engine.explainer.spec
    matrix = np.array([spec.values_for(row) for row in rows], dtype=np.float32)
    labels = np.array([float(row["churn"]) for row in rows], dtype=np.float32)
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 6, "eta": 0.05, "seed": SEED},
        xgboost.DMatrix(matrix, label=labels, feature_names=spec.names),
        num_boost_round=LARGE_MODEL_TREES,
    )
    large_dir = scratch / "large-model"
    large_dir.mkdir()
    booster.save_model(large_dir / "model.json")
    # The engine reads the cut-off its rules refer to from metadata.json: the small model's serves.
    write_metadata(
        large_dir, {"features": spec.names, "feature_spec": spec.to_json(), "cutoff": engine.economics.cutoff}
    )
    return large_dir


def bench_decide(engine: Engine, rows: list[dict]) -> None:
    sentiments = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
    started = time.perf_counter()
    for index, row in enumerate(rows):
        decide(
            engine.rules,
            sentiment=sentiments[index % 4],
            confidence=0.9,
            churn_probability=(index % 100) / 100,
            customer=row,
        )
    emit("decide_per_call", (time.perf_counter() - started) / len(rows) * 1e6, "us", calls=len(rows))


def bench_recommend(engine: Engine, client: PyMySqlClient, rows: list[dict]) -> None:
    latencies = []
    for index in range(RECOMMEND_CALLS):
        row = rows[(index * 7) % len(rows)]
        request = validate_request(row["area_code"], row["phone"], MESSAGES[index % len(MESSAGES)])
        started = time.perf_counter()
        engine.recommend(client, request, agent=f"bench-call-{index}")
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    emit("recommend_p50", statistics.median(latencies), "ms", calls=RECOMMEND_CALLS, database="local MariaDB")
    emit("recommend_p95", latencies[int(0.95 * len(latencies)) - 1], "ms", calls=RECOMMEND_CALLS)
    emit("recommend_max", latencies[-1], "ms", calls=RECOMMEND_CALLS)


if __name__ == "__main__":
    sys.exit(main())
