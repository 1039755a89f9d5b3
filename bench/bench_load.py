"""Call-centre load benchmark: N concurrent callers against a local MariaDB, then an audit of the offers log.

Each caller is a thread (or a process) making `--calls` answers in a row, each opening its own client
under the default 5-s answer deadline, as `churnguard recommend`, the console and the recommend API
(its Data API client) do. Reports throughput, p50/p99 latency and errors, then checks that the offers
log holds exactly one row per answered call (no answer lost, none doubled, no row without an answer):
the exit status is 1 when it does not. The latencies are the throwaway server's, not Aurora's: no
target is set on them.

Setup (not timed): a throwaway MariaDB server, 2,000 synthetic customers (seed 1729), a model
trained on them with 4 search trials. Prints one JSON line per figure, with the conditions (threads,
calls, CPUs, the load average before and after, the cores other processes used meanwhile) in each,
because the machine is shared.

    .venv/bin/python bench/bench_load.py [--threads 16] [--calls 500] [--callers-as threads|processes]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from local_churnguard import churnguard_server  # noqa: E402  (bench/, the script's own folder)

from churnguard.db import connect  # noqa: E402
from churnguard.engine.deadline import DEFAULT_ANSWER_TIMEOUT_S, Deadline  # noqa: E402
from churnguard.engine.recommend import Engine  # noqa: E402
from churnguard.engine.request import validate_request  # noqa: E402
from training.pipeline import train  # noqa: E402
from training.synthetic import generate_customers  # noqa: E402

SEED = 1729
CUSTOMERS = 2000
TRIALS = 4
MESSAGES = ("You morons! You charged me extra again!", "How do I dial Morocco?", "Thanks, all good now.")


def conditions(threads: int, calls: int, mode: str) -> dict[str, object]:
    return {
        "callers_as": mode,
        "threads": threads,
        "calls_per_thread": calls,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "database": "local MariaDB",
    }


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (/proc/stat, Linux): with this
    run's own client and server CPU taken away, what other work took from the cores meanwhile."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(
        json.dumps({"benchmark": "load", "name": name, "value": round(value, 6), "unit": unit, **extra}),
        flush=True,
    )


@dataclass
class Outcome:
    """What one caller saw: the latency and offer id of every answer, and its errors by type."""

    latencies_ms: list[float] = field(default_factory=list)
    offer_ids: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def make_calls(
    engine: Engine, url: str, customers: list[tuple[int, str]], index: int, calls: int, start
) -> Outcome:
    """One agent's desk: `calls` answers in a row, each on a client opened within its deadline,
    every outcome kept."""
    outcome = Outcome()
    start.wait()
    for call in range(calls):
        area_code, phone = customers[(index * 7919 + call * 31) % len(customers)]
        request = validate_request(area_code, phone, MESSAGES[call % len(MESSAGES)])
        started = time.perf_counter()
        try:
            with connect(url, deadline=Deadline.after(DEFAULT_ANSWER_TIMEOUT_S)) as client:
                answer = engine.recommend(client, request, agent=f"bench-desk-{index}-call-{call}")
        except Exception as error:  # counted by type: the figure is "errors", not a crash
            outcome.errors[type(error).__name__] += 1
            continue
        outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
        outcome.offer_ids.append(int(answer["offer_id"]))
    return outcome


def run_threads(engine: Engine, url: str, customers: list[tuple[int, str]], callers: int, calls: int):
    """Callers as threads of this process (they share its interpreter lock); returns the outcomes and
    the client CPU seconds they used."""
    start = threading.Barrier(callers)
    outcomes: list[Outcome] = [Outcome() for _ in range(callers)]

    def desk(index: int) -> None:
        outcomes[index] = make_calls(engine, url, customers, index, calls, start)

    cpu = time.process_time()
    threads = [threading.Thread(target=desk, args=(index,)) for index in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, time.process_time() - cpu


def _desk_process(queue, engine: Engine, url: str, customers, index: int, calls: int, start) -> None:
    queue.put(make_calls(engine, url, customers, index, calls, start))


def run_processes(engine: Engine, url: str, customers: list[tuple[int, str]], callers: int, calls: int):
    """Callers as processes of their own, as Lambda execution environments or CLI calls are; returns
    the outcomes and the client CPU seconds they used."""
    context = multiprocessing.get_context("fork")
    start, queue = context.Barrier(callers), context.Queue()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes = [
        context.Process(target=_desk_process, args=(queue, engine, url, customers, index, calls, start))
        for index in range(callers)
    ]
    for process in processes:
        process.start()
    outcomes = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return outcomes, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/PID/stat, Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(engine: Engine, url: str, server_pid: int, threads: int, calls: int, mode: str) -> bool:
    """Run the load and print its figures; whether the offers log held exactly the answers given."""
    audit = connect(url)
    customers = [
        (int(row["area_code"]), str(row["phone"]))
        for row in audit.query("SELECT area_code, phone FROM customers")
    ]
    before = int(audit.query("SELECT COUNT(*) AS n FROM offers_log")[0]["n"])
    run = run_threads if mode == "threads" else run_processes
    load_before = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    server_cpu, machine_cpu = process_cpu_seconds(server_pid), machine_busy_seconds()
    outcomes, client_cpu = run(engine, url, customers, threads, calls)
    seconds = time.perf_counter() - started
    server_cpu = process_cpu_seconds(server_pid) - server_cpu
    other_cpu = machine_busy_seconds() - machine_cpu - client_cpu - server_cpu

    latencies = sorted(latency for outcome in outcomes for latency in outcome.latencies_ms)
    answered = [offer_id for outcome in outcomes for offer_id in outcome.offer_ids]
    errors: Counter[str] = sum((outcome.errors for outcome in outcomes), Counter())
    logged = [int(row["id"]) for row in audit.query("SELECT id FROM offers_log ORDER BY id")][before:]
    audit.close()
    answered_ids, logged_ids = Counter(answered), Counter(logged)
    lost = sum((answered_ids - logged_ids).values())  # shown to an agent, not in the log
    duplicated = sum(count - 1 for count in answered_ids.values() if count > 1)
    unanswered_rows = sum((logged_ids - answered_ids).values())  # in the log, never shown

    context = {
        **conditions(threads, calls, mode),
        # The machine is shared: how loaded it was, and how many of its cores other processes kept
        # busy during the run (all CPU used minus this run's client and server), next to every figure.
        "load_average_1m_before": load_before,
        "other_processes_cores": round(max(0.0, other_cpu) / seconds, 2),
    }
    emit("throughput", len(answered) / seconds, "answers/s", **context)
    emit("latency_p50", statistics.median(latencies), "ms", **context)
    emit("latency_p99", latencies[max(0, round(0.99 * len(latencies)) - 1)], "ms", **context)
    emit("latency_max", latencies[-1], "ms", **context)
    # CPU per answer does not depend on what else the shared machine runs, unlike the latencies:
    # two cores divided by their sum is the throughput an idle 2-core machine could sustain.
    emit("client_cpu_per_answer", client_cpu / len(answered) * 1000, "ms", **context)
    emit("server_cpu_per_answer", server_cpu / len(answered) * 1000, "ms", **context)
    emit("errors", sum(errors.values()), "calls", by_type=dict(errors), **context)
    emit("answered", len(answered), "calls", **context)
    emit("offers_log_rows", len(logged), "rows", **context)
    emit("lost", lost, "answers", **context)
    emit("duplicated", duplicated, "answers", **context)
    emit("rows_without_answer", unanswered_rows, "rows", **context)
    return lost == duplicated == unanswered_rows == 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16, help="concurrent callers (default 16)")
    # 960 answers check exactly-once well enough; with a client per answer (issue 24) the stand-in
    # answers about 10-40 a second here, so 8,000 made `make bench` take a quarter of an hour.
    parser.add_argument("--calls", type=int, default=60, help="answers per caller (default 60)")
    parser.add_argument(
        "--callers-as",
        choices=("threads", "processes"),
        default="threads",
        help="threads of one process (default; they share its interpreter lock) or processes of their "
        "own, as Lambda execution environments are",
    )
    args = parser.parse_args(argv)
    customers = generate_customers(CUSTOMERS, seed=SEED)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        model_dir = Path(scratch) / "model"
        train(customers, model_dir, trials=TRIALS, seed=SEED)
        engine = Engine.load(model_dir)
        with churnguard_server(model_dir, customers, SEED) as server:
            exact = run_load(engine, server.url, server.pid, args.threads, args.calls, args.callers_as)
    if not exact:
        print("the offers log does not hold exactly one row per answer given", file=sys.stderr)
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
