"""What the tests share: the database of scripts/test-python.sh, fresh addresses, and node for the TypeScript side."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPOSITORY / "python"


def database_url() -> str:
    """authdb_app's URL: a role granted by `authdb grant` on a migrated database (scripts/test-python.sh sets it)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set: run the Python tests with `npm run test:python` (scripts/test-python.sh)")
    return url


def admin_url() -> str:
    """The superuser's URL, for what no API function does (confirming a phone number)."""
    url = os.environ.get("AUTHDB_ADMIN_URL")
    if not url:
        raise RuntimeError("AUTHDB_ADMIN_URL is not set: run the Python tests with `npm run test:python` (scripts/test-python.sh)")
    return url


def schema() -> str:
    return os.environ.get("AUTHDB_SCHEMA", "authdb")


def fresh_email(label: str = "ada") -> str:
    """An address no other test or run uses."""
    return f"{label}.{uuid.uuid4().hex}@example.com"


def fresh_phone() -> str:
    """A valid E.164 number no other test uses (+49 and 12 random digits)."""
    return "+49" + str(uuid.uuid4().int)[:12]


def run_node(script: str, *args: str) -> str:
    """Runs an ES module script with node in the repository (dist/ built, node_modules present); its stdout, stripped."""
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script, "--", *args], cwd=REPOSITORY, check=True, capture_output=True, text=True
    )
    return result.stdout.strip()
