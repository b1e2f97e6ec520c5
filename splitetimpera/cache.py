"""The on-disk cache (``$SEI_CACHE``, else ``~/.cache/splitetimpera``): transfer-time
distributions, I-SPLIT tables, trained bottlenecks. Safe to delete at any time."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(kind: str) -> Path:
    """The cache folder for ``kind`` (created on first use)."""
    root = os.environ.get("SEI_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "splitetimpera"
    path = base / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
