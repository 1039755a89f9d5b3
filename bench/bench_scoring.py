"""Scoring speed and fidelity of the SQL layer on a throwaway MariaDB server.

Prints one JSON line per (model, form):
- scoring_rows_per_s: rows per second for bulk in-database scoring of --rows customers in that form:
  "view_in_database" (customer_churn_scores, the compiled model evaluated on read, every row scored
  and summed inside the server: no transfer), "view_fetch" (the same, every row fetched by the client),
  "refresh" (CALL refresh_customer_scores(): compute and store every score, set-based),
  "materialised_read" (all rows fetched from customer_scores, computed beforehand by "refresh"),
  "stored_function" (will_churn(...) per row, over --function-rows rows only: it is slow);
- native_rows_per_s: xgboost Booster.predict on the same rows' features (DMatrix included), same run;
- max_abs_diff: largest |SQL - xgboost| over every row for that form (the view's rows for the views,
  customer_scores for the others; "stored_function" over its rows);
- assess_p50_ms / assess_p99_ms: the call-centre statement (will_churn + both sentiment functions) for
  one customer, over --calls calls with random customers and messages.
- max_statement_chars, part_functions, view_layers: the longest statement the model's SQL sends (the
  RDS Data API takes 65,536 characters at most), and how many part functions and bulk-scoring view
  layers the model was cut into to stay under it (0 and 0: compiled whole; docs/sql.md).
Models: "pipeline" (training.pipeline.train on the public data set when present, else synthetic, with
the default search: the model `make train` would ship, whatever size the cross-validated search
chooses), "stress" (100 trees of depth 6 on the same features, the size quoted in issue 4) and
"large" (300 trees of depth 6, issue 23: about five times what one Data API statement holds).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xgboost as xgb
from public_data import PUBLIC_DATA

from churnguard.db import PyMySqlClient, connect
from churnguard.feature_spec import FeatureSpec
from churnguard.local.install import install_churnguard
from churnguard.local.server import start_server, stop_server
from churnguard.model_folder import MODEL_JSON, ModelFolder, model_id_of, write_metadata
from churnguard.sqlgen import (
    SqlFile,
    apply_sql_files,
    call_centre_sql,
    load_model,
    local_function_files,
    will_churn_call,
)
from training.pipeline import DEFAULT_TRIALS
from training.synthetic import MESSAGES, generate_customers, generate_messages

SEED = 1729
TARGET_ROWS_PER_S = 100_000
STRESS_TREES = 100
LARGE_TREES = 300
PART_FUNCTION = re.compile(r"CREATE FUNCTION will_churn_[0-9a-f]{16}_p")
VIEW_LAYER = re.compile(r"CREATE SQL SECURITY INVOKER VIEW will_churn_[0-9a-f]{16}_v")


def train_pipeline_model(out_dir: Path, trials: int) -> Path:
    from training.pipeline import train

    if PUBLIC_DATA.exists():
        from training.data import load_customers

        customers = load_customers(PUBLIC_DATA)
    else:
        customers = generate_customers(3333, seed=SEED)
    train(customers, out_dir, trials=trials, seed=SEED)
    return out_dir


def write_stress_model(pipeline_dir: Path, out_dir: Path, trees: int = STRESS_TREES) -> Path:
    """`trees` trees of depth 6 on the pipeline model's features: a deliberately large model."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pipeline = ModelFolder.read(pipeline_dir)
    spec = pipeline.feature_spec
    customers = generate_customers(3333, seed=SEED + 1)
    features = np.array([spec.values_for(row) for row in customers.to_dict("records")], dtype=np.float64)
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "seed": SEED}
    booster = xgb.train(
        params, xgb.DMatrix(features, customers["churn"].astype(int), feature_names=spec.names), trees
    )
    booster.save_model(str(out_dir / MODEL_JSON))
    # The pipeline model's metadata, with the id of the model it now describes (ModelFolder checks it).
    write_metadata(
        out_dir, {**pipeline.document, "model_id": model_id_of((out_dir / MODEL_JSON).read_bytes())}
    )
    return out_dir


def model_size(model_dir: Path) -> dict[str, int]:
    trees = json.loads((model_dir / "model.json").read_text())["learner"]["gradient_booster"]["model"][
        "trees"
    ]
    return {"trees": len(trees), "nodes": sum(len(tree["left_children"]) for tree in trees)}


def timed_query(client: PyMySqlClient, sql: str) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    rows = client.query(sql)
    return time.perf_counter() - start, rows


def max_diff(
    rows: list[dict], expected: dict[tuple[int, str], float], column: str = "churn_probability"
) -> float:
    return max(abs(row[column] - expected[(row["area_code"], row["phone"])]) for row in rows)


def native_scores(model_dir: Path, spec: FeatureSpec, customers_rows: list[dict]) -> tuple[float, dict]:
    """xgboost's rows/s on the same rows (features computed beforehand) and its score per customer."""
    features = np.array([spec.values_for(row) for row in customers_rows], dtype=np.float64)
    booster = xgb.Booster(model_file=str(model_dir / "model.json"))
    booster.predict(xgb.DMatrix(features[:100], feature_names=spec.names))  # warm up, as the SQL side is
    start = time.perf_counter()
    predictions = booster.predict(xgb.DMatrix(features, feature_names=spec.names))
    elapsed = time.perf_counter() - start
    keys = [(row["area_code"], row["phone"]) for row in customers_rows]
    return len(keys) / elapsed, dict(zip(keys, predictions.astype(float).tolist(), strict=True))


def assess_latencies(
    client: PyMySqlClient, spec: FeatureSpec, keys: list[tuple[int, str]], calls: int
) -> list[float]:
    sql = call_centre_sql(spec)
    texts = [text for group in MESSAGES.values() for text in group]
    chooser = random.Random(SEED)
    client.query(sql, {"area_code": keys[0][0], "phone": keys[0][1], "message": texts[0]})  # warm the caches
    latencies = []
    for _ in range(calls):
        area_code, phone = chooser.choice(keys)
        params = {"area_code": area_code, "phone": phone, "message": chooser.choice(texts)}
        start = time.perf_counter()
        rows = client.query(sql, params)
        latencies.append((time.perf_counter() - start) * 1000)
        assert len(rows) == 1
    return latencies


def statement_sizes(files: list[SqlFile]) -> dict[str, int]:
    statements = [text for file in files for text in file.statements()]
    return {
        "max_statement_chars": max(len(text) for text in statements),
        "part_functions": sum(1 for text in statements if PART_FUNCTION.match(text)),
        "view_layers": sum(1 for text in statements if VIEW_LAYER.match(text)),
    }


def bench_model(client: PyMySqlClient, name: str, model_dir: Path, args: argparse.Namespace) -> None:
    files = local_function_files(model_dir)
    apply_sql_files(client, files)
    spec, _ = load_model(model_dir)
    customers_rows = client.query("SELECT * FROM customers")
    native_rate, expected = native_scores(model_dir, spec, customers_rows)
    rows = len(customers_rows)

    in_db_s, _ = timed_query(
        client, "SELECT COUNT(*) AS n, SUM(churn_probability) AS s FROM customer_churn_scores"
    )
    view_s, view_rows = timed_query(
        client, "SELECT area_code, phone, churn_probability FROM customer_churn_scores"
    )
    start = time.perf_counter()
    client.execute("CALL refresh_customer_scores()")
    refresh_s = time.perf_counter() - start
    read_s, read_rows = timed_query(client, "SELECT area_code, phone, churn_probability FROM customer_scores")
    function_s, function_rows = timed_query(
        client,
        f"SELECT c.area_code, c.phone, {will_churn_call(spec, 'c')} AS churn_probability"
        f" FROM (SELECT * FROM customers ORDER BY area_code, phone LIMIT {args.function_rows}) AS c",
    )
    latencies = assess_latencies(client, spec, list(expected), args.calls)
    common = {
        "bench": "scoring",
        "model": name,
        **model_size(model_dir),
        **statement_sizes(files),
        "features": len(spec.names),
        "native_rows_per_s": round(native_rate),
        "assess_p50_ms": round(statistics.median(latencies), 3),
        "assess_p99_ms": round(float(np.percentile(latencies, 99)), 3),
        "target_rows_per_s": TARGET_ROWS_PER_S,
    }
    measured = [
        ("view_in_database", rows, in_db_s, max_diff(view_rows, expected)),
        ("view_fetch", rows, view_s, max_diff(view_rows, expected)),
        ("refresh", rows, refresh_s, max_diff(read_rows, expected)),
        ("materialised_read", rows, read_s, max_diff(read_rows, expected)),
        ("stored_function", len(function_rows), function_s, max_diff(function_rows, expected)),
    ]
    for form, count, seconds, diff in measured:
        line = {**common, "form": form, "rows": count, "scoring_rows_per_s": round(count / seconds)}
        line["max_abs_diff"] = diff
        print(json.dumps(line), flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="customers to score")
    parser.add_argument("--calls", type=int, default=1_000, help="call-centre statements to time")
    parser.add_argument("--function-rows", type=int, default=2_000, help="rows for the stored-function form")
    parser.add_argument(
        "--trials", type=int, default=DEFAULT_TRIALS, help="search trials for the pipeline model"
    )
    parser.add_argument("--model", type=Path, default=None, help="use this model folder instead of training")
    parser.add_argument("--no-stress", action="store_true", help="skip the 100-tree stress model")
    parser.add_argument("--no-large", action="store_true", help="skip the 300-tree model cut into parts")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="churnguard-bench-") as work:
        work_dir = Path(work)
        pipeline_dir = args.model or train_pipeline_model(work_dir / "pipeline", args.trials)
        models = [("pipeline", pipeline_dir)]
        if not args.no_stress:
            models.append(("stress", write_stress_model(pipeline_dir, work_dir / "stress")))
        if not args.no_large:
            models.append(("large", write_stress_model(pipeline_dir, work_dir / "large", LARGE_TREES)))
        customers = generate_customers(args.rows, seed=SEED)
        server = start_server(work_dir / "mariadb")
        try:
            client = connect(server.url)
            install_churnguard(
                client,
                model_dir=pipeline_dir,
                customers=customers,
                messages=generate_messages(customers, seed=SEED),
            )
            for name, model_dir in models:
                bench_model(client, name, model_dir, args)
            client.close()
        finally:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
