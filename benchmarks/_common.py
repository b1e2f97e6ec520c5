"""Shared by the benchmark scripts: machine facts and where results go."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    import torch

    from splitetimpera import __version__
    from splitetimpera.models.profile import cpu_name

    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sei": __version__,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        # other work on the machine slows what is timed (1, 5 and 15 minute averages)
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def write(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return path
