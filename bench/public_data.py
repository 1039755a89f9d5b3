"""Where the benchmarks find the public churn data set: ../shared/data, never copied into the repository."""

from pathlib import Path

PUBLIC_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "churn-larose-3333.txt"
