"""`churnguard train`: train, explain and package the churn model locally, or launch it on SageMaker."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from churnguard.commands._options import check_synthetic_customers
from churnguard.constants import DEFAULT_AUC_MARGIN, DEFAULT_SEED, DEFAULT_SYNTHETIC_CUSTOMERS
from churnguard.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the churn model (locally, or on SageMaker with --sagemaker)",
        description="Trains XGBoost with a hyper-parameter search, keeps a reduced model when it is as good, "
        "chooses the business cut-off and writes model.tar.gz, model.json, metadata.json and report.html. "
        "Without --data it trains on synthetic customers.",
    )
    parser.add_argument("--data", type=Path, default=None, help="customer CSV (public or snake_case header)")
    parser.add_argument("--out", type=Path, default=Path("artifacts/model"), help="output folder")
    parser.add_argument("--trials", type=int, default=None, help="hyper-parameter sets to try (default 20)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the split, the search and synthetic data"
    )
    parser.add_argument("--split", choices=("project", "reference"), default="project", help="split rule")
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_SYNTHETIC_CUSTOMERS, help="synthetic rows without --data"
    )
    parser.add_argument("--offer-usd", type=float, default=50.0, help="cost of one incentive offer")
    parser.add_argument("--lost-customer-usd", type=float, default=500.0, help="cost of one lost customer")
    parser.add_argument(
        "--auc-margin",
        type=float,
        default=DEFAULT_AUC_MARGIN,
        help="keep the reduced model when its cross-validated AUC is at most this far below the full one's",
    )
    parser.add_argument(
        "--trial-selection",
        choices=("cost", "auc"),
        default="cost",
        help="keep the search trial with the lowest validation cost (default) or the highest validation AUC",
    )
    aws = parser.add_argument_group("SageMaker (docs/training.md, Training on SageMaker)")
    aws.add_argument(
        "--sagemaker",
        action="store_true",
        help="run the search and training as SageMaker jobs, then write --out",
    )
    aws.add_argument("--stage", default=None, help="read bucket, role and key from stack churnguard-STAGE")
    aws.add_argument(
        "--from-table",
        action="store_true",
        help="train on the deployed customers table, whose rows stay in Aurora (split and exported by SQL "
        "with SELECT INTO OUTFILE S3; needs --stage)",
    )
    aws.add_argument("--bucket", help="data bucket for inputs and artifacts (under model/)")
    aws.add_argument("--role-arn", help="execution role the jobs run as")
    aws.add_argument("--region", default=None, help="AWS region (default: the AWS configuration's)")
    aws.add_argument("--instance-type", default=None, help="training instance type (default ml.m5.xlarge)")
    aws.add_argument(
        "--instance-count",
        type=int,
        default=1,
        help="instances per training job (>1: distributed, sharded input)",
    )
    aws.add_argument("--kms-key-id", default=None, help="KMS key for uploads, outputs and volumes")
    aws.add_argument(
        "--scoring",
        choices=("auto", "local", "batch-transform"),
        default="auto",
        help="score the validation/test rows here or with a batch transform job (auto: batch transform "
        "above 1,000,000 rows)",
    )
    aws.add_argument(
        "--max-wait-minutes", type=float, default=240.0, help="give up waiting for one job after this long"
    )
    parser.set_defaults(func=run)


def _customers(args: argparse.Namespace) -> Any:
    if args.data is not None:
        from training.data import EXPORT_FORMAT, SOURCE_FORMAT, load_customers

        customers = load_customers(args.data)
        if customers.attrs.get(SOURCE_FORMAT) == EXPORT_FORMAT:
            print(
                f"{args.data} has no header line: read as a table export (SELECT ... INTO OUTFILE, "
                "the schema's column order)",
                file=sys.stderr,
            )
        return customers
    check_synthetic_customers(args.rows, "--rows")
    from training.synthetic import generate_customers

    print(f"no --data given: training on {args.rows} synthetic customers (seed {args.seed})", file=sys.stderr)
    return generate_customers(args.rows, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    if args.sagemaker:
        return _launch_on_sagemaker(args)
    customers = _customers(args)
    from training.pipeline import DEFAULT_TRIALS, train
    from training.progress import StreamProgress

    result = train(
        customers,
        args.out,
        trials=DEFAULT_TRIALS if args.trials is None else args.trials,
        seed=args.seed,
        split=args.split,
        offer_usd=args.offer_usd,
        lost_customer_usd=args.lost_customer_usd,
        auc_margin=args.auc_margin,
        trial_selection=args.trial_selection,
        progress=StreamProgress(),
        data_source=str(args.data)
        if args.data is not None
        else f"{args.rows:,} synthetic customers (seed {args.seed})",
    )
    print(summary_text(result.metadata, args.out))
    return 0


def summary_text(metadata: dict[str, Any], out_dir: Path) -> str:
    """What the run gives, the estimate to expect first: the test part's figures alone mislead when
    its few hundred customers happen to be unusual (docs/training.md, "What make train says")."""
    from training.expectation import expectation_lines

    metrics, cost = metadata["metrics"], metadata["cost"]
    return "\n".join(
        [
            f"model: {metrics['chosen']} ({len(metadata['features'])} features), cut-off "
            f"{metadata['cutoff']:.2f}, offers at ${cost['offer_usd']:,.2f}, lost customers at "
            f"${cost['lost_customer_usd']:,.2f}",
            *expectation_lines(metadata),
            f"test cost ${cost['at_cutoff']:,.0f} against ${cost['do_nothing']:,.0f} doing nothing; "
            f"test AUC full {metrics['full']['test_auc']:.4f} / reduced {metrics['reduced']['test_auc']:.4f}",
            f"written to {out_dir}: model.tar.gz, model.json, metadata.json, report.html",
        ]
    )


def _launch_on_sagemaker(args: argparse.Namespace) -> int:
    import boto3

    from churnguard.aws_clients import aws_client
    from training.cutoff import CostModel
    from training.sagemaker import wait as sagemaker_wait
    from training.sagemaker.jobs import (
        DEFAULT_INSTANCE_TYPE,
        DEFAULT_MAX_JOBS,
        LaunchSettings,
        default_run_name,
        training_image,
    )
    from training.sagemaker.run import Clients, RunOptions, SageMakerTrainer
    from training.sagemaker.table_rows import SOURCE as TABLE_SOURCE
    from training.sagemaker.wait import JobProgress

    if not args.stage and not (args.bucket and args.role_arn):
        raise UserError(
            "--sagemaker needs --stage (to read the deployed stack's outputs) or --bucket and --role-arn"
        )
    session = boto3.session.Session(region_name=args.region)
    if not session.region_name:
        raise UserError("no AWS region: pass --region or configure one")
    target = None
    if args.stage:
        from training.sagemaker.stack import read_training_target

        target = read_training_target(
            aws_client("cloudformation", session=session), args.stage, session.region_name
        )
    bucket = args.bucket or (target.stack.bucket if target else None)
    role_arn = args.role_arn or (target.role_arn if target else None)
    assert bucket and role_arn  # given, or read from the stack's outputs (read_training_target checks them)
    if args.from_table and (target is None or args.data is not None):
        raise UserError("--from-table trains on the deployed table: give --stage, and no --data")
    if args.from_table and args.split != "project":
        raise UserError(
            "--from-table splits the table in Aurora by the project rule (docs/training.md); the reference "
            "rule shuffles rows in pandas: give --split project, or train from a CSV with --data"
        )
    settings = LaunchSettings(
        bucket=bucket,
        role_arn=role_arn,
        region=session.region_name,
        run_name=default_run_name(),
        instance_type=args.instance_type or DEFAULT_INSTANCE_TYPE,
        instance_count=args.instance_count,
        max_jobs=DEFAULT_MAX_JOBS if args.trials is None else args.trials,
        max_parallel_jobs=min(2, DEFAULT_MAX_JOBS if args.trials is None else max(args.trials, 1)),
        kms_key_id=args.kms_key_id or (target.key_arn if target else None),
        data_from_table=args.from_table,
    )
    clients = Clients(aws_client("sagemaker", session=session), aws_client("s3", session=session))
    progress = JobProgress()
    if args.from_table:
        assert target is not None
        data: Any = _table_rows(args, target, settings, clients, progress, session)
    else:
        from training.sagemaker.data import RowsHere

        data = RowsHere(lambda: _customers(args), clients.s3, settings, split=args.split, seed=args.seed)

    options = RunOptions(
        seed=args.seed,
        costs=CostModel(offer_usd=args.offer_usd, lost_customer_usd=args.lost_customer_usd),
        auc_margin=args.auc_margin,
        scoring=args.scoring,
        data_source=TABLE_SOURCE if args.from_table else "csv" if args.data else "synthetic",
        # The poll interval read here, not bound as a default, so a test can shorten it.
        wait={"max_wait_s": args.max_wait_minutes * 60, "poll_s": sagemaker_wait.DEFAULT_POLL_S},
    )
    print(
        f"run {settings.run_name}: staging under s3://{bucket}/{settings.channel_prefix}, "
        f"tuning job {settings.tuning_job_name} ({settings.max_jobs} jobs)",
        file=sys.stderr,
    )
    trainer = SageMakerTrainer(clients, settings, training_image(settings.region), options, progress)
    metadata = trainer.run(data, args.out)
    print(summary_text(metadata, args.out))
    return 0


def _table_rows(
    args: argparse.Namespace, target: Any, settings: Any, clients: Any, progress: Any, session: Any
) -> Any:
    """The deployed customers table as the run's data: statements through the Data API, results in S3."""
    from training.sagemaker.table_export import ExportWait, TableExporter
    from training.sagemaker.table_rows import TableRows

    database = table_data_api_client(
        session=session,
        cluster_arn=target.stack.cluster_arn,
        secret_arn=target.stack.app_secret_arn,
        database=target.stack.database,
    )
    exporter = TableExporter(
        database, clients.s3, settings.bucket, progress, ExportWait(max_wait_s=args.max_wait_minutes * 60)
    )
    return TableRows(exporter, settings, seed=args.seed)


def table_data_api_client(*, session: Any, cluster_arn: str, secret_arn: str, database: str) -> Any:
    """The Data API client of a --from-table run: one attempt per statement. A retry after a lost
    answer would start a second export writing the same files (OVERWRITE ON) while the first runs
    on; the exporter waits for the first one's manifest instead (training.sagemaker.table_export)."""
    from churnguard.aws_clients import aws_client
    from churnguard.dataapi import DEFAULT_READ_TIMEOUT_S, DataApiClient

    return DataApiClient(
        aws_client("rds-data", session=session, read_timeout=DEFAULT_READ_TIMEOUT_S, max_attempts=1),
        resource_arn=cluster_arn,
        secret_arn=secret_arn,
        database=database,
    )
