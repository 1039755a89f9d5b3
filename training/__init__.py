"""The churn model's training pipeline: data, features, search, explanation, cut-off, artifacts, report.

`training.pipeline.train` runs it end to end; `churnguard train` is its command line.
"""
