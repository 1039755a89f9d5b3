"""`churnguard demo`: the whole churn-prevention workflow offline, from data to offers and a report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from churnguard.commands._invocation import churnguard_command
from churnguard.commands._options import check_synthetic_customers
from churnguard.errors import UserError

DEFAULT_OUT = Path("artifacts/demo")


def register(subparsers: argparse._SubParsersAction) -> None:
    from churnguard.constants import DEFAULT_SEED, DEFAULT_SYNTHETIC_CUSTOMERS
    from churnguard.demo import DEFAULT_TRIALS

    parser = subparsers.add_parser(
        "demo",
        help="run the whole workflow offline on a throwaway local database",
        description="Starts a throwaway MariaDB server, loads customers (synthetic, or --data), exports "
        "them, trains and explains the churn model, installs the generated SQL functions, answers a "
        "handful of calls with the incentive engine (the reference's two sample calls among them), "
        "writes the HTML report and stops the server.",
    )
    parser.add_argument("--data", type=Path, default=None, help="customer CSV (default: synthetic customers)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=DEFAULT_SYNTHETIC_CUSTOMERS,
        help="how many synthetic customers without --data",
    )
    parser.add_argument("--trials", type=int, default=DEFAULT_TRIALS, help="hyper-parameter search trials")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the data, split and search")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from churnguard.demo import format_answers, run_demo
    from training.progress import StreamProgress

    check_synthetic_customers(args.customers, "--customers")
    if args.trials < 1:
        raise UserError(f"--trials must be at least 1 (got {args.trials})")
    started = time.perf_counter()
    result = run_demo(
        out_dir=args.out,
        data=args.data,
        customers=args.customers,
        trials=args.trials,
        seed=args.seed,
        progress=StreamProgress(sys.stderr),
    )
    metadata = result.training.metadata
    metrics = metadata["metrics"]
    chosen = metrics["chosen"]
    cost = metadata["cost"]
    print(format_answers(result))
    print()
    print(f"customers        {result.customers} (exported to {result.export_path})")
    print(
        f"model            {chosen}, {len(metadata['features'])} features, test AUC "
        f"{metrics[chosen]['test_auc']:.3f} (full model {metrics['full']['test_auc']:.3f})"
    )
    print(
        f"churn cut-off    {metadata['cutoff']:.2f}: cost ${cost['at_cutoff']:,.0f} on "
        f"{cost['test_rows']} test customers, against ${cost['do_nothing']:,.0f} doing nothing"
    )
    print(f"report           {result.training.report_path}")
    print(f"offers           {len(result.answers)} answered and recorded in the offers log")
    print("local database   stopped and deleted")
    print(f"done in          {time.perf_counter() - started:.0f} s")
    # The demo's database is gone by now; the console needs one that stays up while an agent uses it.
    command = churnguard_command()
    print(
        f"agent console    {command} local up && {command} console   "
        "(then open the address it prints, with its ?token=, new on every run)"
    )
    return 0
