"""Rewrite the golden summaries of the shipped scenarios (run from the repository root).

Only for a change that alters results on purpose; say so in the change's note.

    python tests/golden/update.py
"""

from __future__ import annotations

from pathlib import Path

from splitetimpera import load_scenario, simulate
from splitetimpera.store import write_csv

REPO = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        result = simulate(load_scenario(path))
        write_csv(result.summary, Path(__file__).parent / f"{path.stem}.summary.csv")
        print(f"{path.stem}: {len(result.summary)} configurations")
