"""The command line starts without the feature engine: numba and its compiled kernel cost about a
third of a second of CPU, paid only by the commands that compute features."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_loads_without_numba() -> None:
    code = "import sys, pesaguard.cli.main; print(sorted(m for m in ('numba', 'pesaguard.features.kernel') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout
