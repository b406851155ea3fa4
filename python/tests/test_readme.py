"""The README's "Use from Python" block runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from support import PYTHON_DIR, REPOSITORY, database_url


def test_the_readme_example_runs() -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Use from Python\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, "the section has a python block"
    result = subprocess.run(
        [sys.executable, "-c", found.group(1)],
        env={**os.environ, "DATABASE_URL": database_url(), "PYTHONPATH": str(PYTHON_DIR)},
        check=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout == "AU001 True\n"
