"""Every benchmark still runs and prints its figures (`run_all.py --quick`).

Budgets are judged by the benchmarks on full inputs, never here; this only keeps a
benchmark from breaking unnoticed when the code it measures changes (web.py did once).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from run_all import BENCHES  # noqa: E402


def test_every_benchmark_runs_on_small_inputs_and_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == len(BENCHES), done.stdout[-3000:]
    missing = [row.split(" | ")[0] for row in rows if "(not found)" in row]
    assert not missing, f"no figures from {missing}:\n{done.stdout[-4000:]}"
