"""The recommend handler's fixtures: the engine's prepared database, reused (see tests/engine/conftest.py)."""

from tests.engine.conftest import engine_db_url  # noqa: F401  (a fixture, registered by importing it)
from tests.engine.faults import faulty_db_url, spare_server  # noqa: F401  (fixtures, registered here)
