"""Registers the shared fixtures: a real MariaDB server and a small trained model, each made once."""

import os

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

pytest_plugins = [
    "tests.fixtures.mariadb",
    "tests.fixtures.model",
    "tests.fixtures.large_model",
    "tests.fixtures.public_data",
    "tests.fixtures.silent_server",
]
