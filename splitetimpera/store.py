"""Storage helpers every layer shares: atomic writes, cache keys, JSON cleaning, registries.

* Writes go to a temporary name in the same folder and are renamed into place, so an
  interrupted write never leaves half a file behind or spoils an older one.
* A cache key is a short SHA-256 of a canonical JSON text; a file's identity is a hash of
  its bytes.
* :func:`jsonable` turns NaN and infinities into ``null``, numpy scalars into Python
  numbers and paths into text, so every JSON file and every ``--json`` answer reads the
  same way.
* :class:`Registry` finds pluggable parts (transports, congestion controls, selectors,
  executors, criteria...) by name; an unknown name raises
  :class:`~splitetimpera.errors.UnknownNameError` listing the known ones.
* The on-disk cache (``$SEI_CACHE``, else ``~/.cache/splitetimpera``) holds transfer-time
  distributions, I-SPLIT tables and trained bottlenecks; it is safe to delete at any time.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from .errors import UnknownNameError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "write_json",
    "write_csv",
    "write_parquet",
    "cache_dir",
    "cache_key",
    "file_hash",
    "source_version",
    "jsonable",
    "records",
    "Registry",
    "BoundedCache",
]

T = TypeVar("T")


def _temporary(path: Path) -> Path:
    # the process id keeps two writers of one cache entry from sharing a temporary file
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once (a temporary file renamed into place)."""
    tmp = _temporary(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` all at once."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON (cleaned by :func:`jsonable`), all at once."""
    atomic_write_text(path, json.dumps(jsonable(value), indent=2) + "\n")


def write_csv(frame, path: Path, float_format: str = "%.9g") -> None:
    """A DataFrame as CSV with a fixed float format, so equal results give equal bytes."""
    tmp = _temporary(path)
    frame.to_csv(tmp, index=False, float_format=float_format, lineterminator="\n")
    os.replace(tmp, path)


def write_parquet(frame, path: Path) -> None:
    """A DataFrame as Parquet, all at once."""
    tmp = _temporary(path)
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def cache_dir(kind: str) -> Path:
    """The cache folder for ``kind`` (created on first use): under ``$SEI_CACHE``, else
    ``$XDG_CACHE_HOME/splitetimpera``, else ``~/.cache/splitetimpera``."""
    root = os.environ.get("SEI_CACHE")
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(root) if root else (Path(xdg) if xdg else Path.home() / ".cache") / "splitetimpera"
    path = base / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(value: Any, length: int = 20) -> str:
    """A short hash of ``value``'s canonical JSON (keys sorted; unknown types as text)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@lru_cache(maxsize=64)
def _file_hash(path: str, mtime: float, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def source_version(*parts: str) -> str:
    """A hash of the package's Python source (below ``parts``, e.g. ``"sim"``; all of it by
    default): what was computed by other code is not reused."""
    from . import __version__

    root = Path(__file__).resolve().parent.joinpath(*parts)
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def file_hash(path: Path, length: int = 16) -> str:
    """The SHA-256 of a file's bytes, cut to ``length`` hex digits (memoised per mtime)."""
    stat = path.stat()
    return _file_hash(str(path), stat.st_mtime, stat.st_size)[:length]


def jsonable(value: Any) -> Any:
    """``value`` with NaN/inf as None, numpy scalars as numbers, paths and sets as JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return jsonable(value.item())
    return value


def records(frame) -> list[dict]:
    """A DataFrame's rows as JSON-ready dicts (NaN becomes None)."""
    return [jsonable(r) for r in frame.to_dict(orient="records")]


class Registry(Generic[T]):
    """Pluggable parts found by name.

    Args:
        kind: what the entries are, for messages (``"protocol"``, ``"split selector"``).

    Register a class with the decorator ``@REGISTRY.register`` (it reads the class's
    ``name`` attribute) and find it with ``REGISTRY.get(name)``.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, entry: T) -> T:
        """Decorator: make ``entry`` available by its ``name`` attribute; returns it."""
        name = getattr(entry, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"a registered {self.kind} needs a non-empty str `name`")
        if name in self._entries and self._entries[name] is not entry:
            raise ValueError(f"a {self.kind} named {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        """The entry called ``name``.

        Raises:
            UnknownNameError: naming the closest known name and listing all of them.
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.kind, name, self._entries) from None

    def unregister(self, name: str) -> None:
        """Remove an entry (plugins loaded for a while, tests)."""
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class BoundedCache(Generic[T]):
    """A least-recently-used memo of at most ``size`` entries.

    Args:
        size: how many entries to keep (> 0).
    """

    def __init__(self, size: int):
        if size <= 0:
            raise ValueError(f'"size" must be > 0, got {size}.')
        self.size = size
        self._data: OrderedDict[str, T] = OrderedDict()

    def get(self, key: str, make: Callable[[], T]) -> T:
        """The entry for ``key``, made with ``make()`` on a miss."""
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        value = make()
        self._data[key] = value
        if len(self._data) > self.size:
            self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()
