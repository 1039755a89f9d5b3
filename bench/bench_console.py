"""Agent console latency: look-ups and answers through the console's HTTP API, a client opened per call.

The console's app is served by uvicorn on 127.0.0.1 (as `churnguard console` serves it) against a
throwaway local MariaDB; one client sends `--calls` look-ups (`/api/customer`) and answers
(`/api/recommend` with a typed message, recorded in the offers log) in a row over one keep-alive HTTP
connection, after `--warm-up` calls of each, plus the HTTP round trip alone (`transport`, GET
/config.json). Each call opens its database client, as the deployed console opens its Data API
client; a further figure is one PyMySQL connect alone. Prints one JSON line per figure, each with the
conditions (CPUs, load average), because the machine is shared.

Setup (not timed): 2,000 synthetic customers (seed 1729) and, unless --model names one, a model
trained on them with 4 search trials.

    .venv/bin/python bench/bench_console.py [--calls 100] [--warm-up 5] [--model DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from local_churnguard import churnguard_server  # noqa: E402  (bench/, the script's own folder)

from churnguard.console.app import build_app  # noqa: E402
from churnguard.console.server import serving_in_background  # noqa: E402
from churnguard.console.service import ConsoleService, opened_per_call  # noqa: E402
from churnguard.console.sign_in import new_token  # noqa: E402
from churnguard.db import connect  # noqa: E402
from churnguard.engine.agent_activity import AgentLimits  # noqa: E402
from churnguard.engine.deadline import DEFAULT_ANSWER_TIMEOUT_S  # noqa: E402
from churnguard.engine.offers_log import Actor  # noqa: E402
from churnguard.engine.recommend import Engine  # noqa: E402
from training.pipeline import train  # noqa: E402
from training.synthetic import generate_customers  # noqa: E402

SEED = 1729
CUSTOMERS = 2000
TRIALS = 4
CUSTOMER = {"area_code": 415, "phone": "358-1921"}
MESSAGE = "You morons! You charged me extra again!"
TOKEN = new_token()  # the console's per-run token, sent as a program sends it (a bearer header)
# One agent making more answers a minute than the per-agent cap allows: the bench is that agent.
BENCH_LIMITS = AgentLimits(offers_per_minute=1_000_000)


def calls_for(customers: pd.DataFrame) -> dict[str, list[dict[str, object]] | None]:
    """`transport`: the HTTP round trip alone (GET /config.json), the floor under every call; a look-up
    of one customer; answers for customers in turn, so each is a new answer (the same agent asking
    about the same customer again within the repeat window gets the recorded offer back: one call)."""
    keys = [{"area_code": int(row.area_code), "phone": str(row.phone)} for row in customers.itertuples()]
    return {
        "transport": None,
        "customer": [CUSTOMER],
        "recommend": [{**key, "message": MESSAGE} for key in keys],
    }


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    record = {"benchmark": "console", "name": name, "value": round(value, 3), "unit": unit, **extra}
    record.update(cpus=os.cpu_count(), load_average_1m=round(os.getloadavg()[0], 2), database="local MariaDB")
    print(json.dumps(record), flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed_calls(
    base_url: str, call: str, bodies: list[dict[str, object]] | None, count: int, start: int = 0
) -> list[float]:
    """`count` POSTs to /api/<call> over one keep-alive connection, the bodies taken in turn from
    `start` on (for `transport`, GETs of /config.json, which touches no database); milliseconds each."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    method, path = ("GET", "/config.json") if bodies is None else ("POST", f"/api/{call}")
    headers = {"authorization": f"Bearer {TOKEN}"}
    if bodies is not None:
        headers["content-type"] = "application/json"
    latencies = []
    try:
        for number in range(start, start + count):
            payload = None if bodies is None else json.dumps(bodies[number % len(bodies)])
            started = time.perf_counter()
            connection.request(method, path, payload, headers)
            response = connection.getresponse()
            response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
    finally:
        connection.close()
    return latencies


def measure(
    engine: Engine, url: str, calls: int, warm_up: int, customers: pd.DataFrame
) -> dict[str, list[float]]:
    """Latencies (ms) of `calls` calls of each kind, after `warm_up` untimed ones."""
    clients = opened_per_call(lambda deadline: connect(url, deadline=deadline))
    service = ConsoleService(
        engine=dataclasses.replace(engine, limits=BENCH_LIMITS),
        clients=clients,
        budget_s=DEFAULT_ANSWER_TIMEOUT_S,
        actor=Actor("bench-console", supervisor=True),
    )
    with serving_in_background(build_app(service, token=TOKEN)) as base_url:
        latencies = {}
        for call, bodies in calls_for(customers).items():
            timed_calls(base_url, call, bodies, warm_up)
            latencies[call] = timed_calls(base_url, call, bodies, calls, start=warm_up)
        return latencies


def report(latencies: dict[str, list[float]], warm_up: int) -> None:
    for call, values in latencies.items():
        extra = {"calls": len(values), "warm_up": warm_up}
        for share in (0.5, 0.95):
            emit(f"{call}_p{round(share * 100)}", percentile(values, share), "ms", **extra)
        emit(f"{call}_mean", statistics.fmean(values), "ms", **extra)


def connect_alone(url: str, count: int) -> None:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        connect(url).close()
        times.append((time.perf_counter() - started) * 1000)
    emit("connect_p50", percentile(times, 0.5), "ms", connects=count)


def with_database(model: Path | None, work: Callable[[Engine, str, pd.DataFrame], None]) -> None:
    customers = generate_customers(CUSTOMERS, seed=SEED)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as scratch:
        model_dir = model or Path(scratch) / "model"
        if model is None:
            train(customers, model_dir, trials=TRIALS, seed=SEED)
        with churnguard_server(model_dir, customers, SEED) as server:
            work(Engine.load(model_dir), server.url, customers)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="timed calls of each kind (default 100)")
    parser.add_argument("--warm-up", type=int, default=5, help="untimed calls of each kind first (default 5)")
    parser.add_argument(
        "--model", type=Path, default=None, help="a trained model folder (default: train one)"
    )
    args = parser.parse_args(argv)

    def work(engine: Engine, url: str, customers: pd.DataFrame) -> None:
        connect_alone(url, args.calls)
        report(measure(engine, url, args.calls, args.warm_up, customers), args.warm_up)

    with_database(args.model, work)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
