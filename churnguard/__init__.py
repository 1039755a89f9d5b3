"""churnguard: churn prevention on Aurora MySQL machine learning, runnable offline on MariaDB."""

__version__ = "0.1.0"
