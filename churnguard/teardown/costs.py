"""What each leftover costs per month while it exists, priced from the table `churnguard cost` uses.

The final check names every resource still there with this figure, so "STILL BILLABLE" comes with
how much: a retained secret is $0.40 a month, a KMS key $1, stored logs and objects by the gigabyte.
What the table cannot price (a snapshot's backup storage, an endpoint's instance-hours) is said so,
with the quantity, and left out of the total rather than counted as free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from churnguard.cost.prices import PriceTable
from churnguard.teardown.leftovers import Leftover

# kind -> (price figure, what one of them is called)
PER_ITEM = {
    "Secrets Manager secret": ("secret_month", "secret"),
    "KMS key": ("kms_key_month", "customer managed key"),
}
# kind -> price figure per GB-month of what it stores
PER_STORED_GB = {
    "log group": "cloudwatch_logs_storage_gb_month",
    "S3 bucket": "s3_standard_gb_month",
    "training artifacts": "s3_standard_gb_month",
}
NOT_PRICED = {
    "DB cluster snapshot": "Aurora backup storage by the GB-month: the price table has no figure for it "
    "(see https://aws.amazon.com/rds/aurora/pricing/)",
    "SageMaker endpoint": "billed per instance-hour (real-time) or per request (serverless)",
    "SageMaker training job": "billed per instance-second while it runs",
    "SageMaker tuning job": "its training jobs bill per instance-second while they run",
    "DB cluster": "billed per instance- or ACU-hour and per GB stored while it exists",
    "CloudFormation stack": "its resources bill; `churnguard cost` prices a synthesized stack",
}


@dataclass(frozen=True)
class MonthlyCost:
    """USD per month (None: not priced) and the arithmetic or the reason."""

    usd: float | None
    how: str


def monthly_cost(leftover: Leftover, prices: PriceTable) -> MonthlyCost:
    if not leftover.billable:
        return MonthlyCost(0.0, "not billed")
    if leftover.kind in PER_ITEM:
        figure_name, what = PER_ITEM[leftover.kind]
        figure = prices.unit(figure_name)
        return MonthlyCost(figure.usd, f"1 {what} x ${figure.usd:.2f}/month")
    if leftover.kind in PER_STORED_GB and leftover.stored_gb is not None:
        figure = prices.unit(PER_STORED_GB[leftover.kind])
        return MonthlyCost(
            leftover.stored_gb * figure.usd,
            f"{leftover.stored_gb:.6f} GB stored x ${figure.usd:g}/GB-month",
        )
    reason = NOT_PRICED.get(leftover.kind, "no price for this kind of resource")
    if leftover.stored_gb is not None:
        reason = f"{leftover.stored_gb:g} GB; {reason}"
    return MonthlyCost(None, f"not priced: {reason}")


def money(usd: float) -> str:
    """Cents; a near-empty bucket or log group costs "under $0.01" rather than a misleading $0.00."""
    return "under $0.01" if 0 < usd < 0.005 else f"${usd:.2f}"


def describe_with_cost(leftover: Leftover, prices: PriceTable) -> str:
    cost = monthly_cost(leftover, prices)
    if cost.usd is None:
        return f"{leftover.describe()}: {cost.how}"
    return f"{leftover.describe()}: {money(cost.usd)}/month ({cost.how})"


def total_monthly(leftovers: Iterable[Leftover], prices: PriceTable) -> tuple[float, int]:
    """The priced total per month and how many resources are not priced (not in the total)."""
    total, unpriced = 0.0, 0
    for leftover in leftovers:
        cost = monthly_cost(leftover, prices)
        if cost.usd is None:
            unpriced += 1
        else:
            total += cost.usd
    return total, unpriced


def total_text(leftovers: list[Leftover], prices: PriceTable) -> str:
    """ "$1.40/month", "$1.40/month + 2 not priced" or "2 not priced"."""
    total, unpriced = total_monthly(leftovers, prices)
    parts = [f"{money(total)}/month"] if unpriced < len(leftovers) else []
    parts += [f"{unpriced} not priced"] if unpriced else []
    return " + ".join(parts) or f"{money(0)}/month"
