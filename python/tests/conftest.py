from __future__ import annotations

import psycopg
import pytest
from support import database_url, schema

from authdb_client import AuthDb, connect_per_call


@pytest.fixture
def auth() -> AuthDb:
    """The client as an application would make it: a new autocommit connection per call."""
    return AuthDb(connect_per_call(database_url()), schema=schema())


def pytest_report_header() -> str:
    """Which server the run is against (scripts/test-python.sh runs 17, then 14)."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        row = conn.execute("SELECT pg_catalog.current_setting('server_version'), current_user").fetchone()
    return f"authdb: PostgreSQL {row[0] if row else '?'} as {row[1] if row else '?'}, schema {schema()}"
