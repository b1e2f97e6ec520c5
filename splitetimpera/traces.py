"""Link traces on disk: Mahimahi delivery-opportunity files and ``time,bandwidth`` CSV.

Two formats, told apart by their first line (a CSV has a header with letters):

- **Mahimahi** (``mm-link``'s trace format; K. Winstein, A. Sivaraman, H. Balakrishnan,
  NSDI 2013; R. Netravali et al., USENIX ATC 2015): one line per delivery opportunity for
  one 1500-byte packet, holding the time in whole milliseconds since the trace start;
  repeated times are several packets in that millisecond, missing times are outages, and
  the trace loops with a period of its last timestamp. A file holding the single line
  ``1`` is a constant 12 Mbit/s (1500 B every millisecond).
- **CSV** ``time,bandwidth``: a header naming both columns, then one row per change of
  rate; each rate holds from its time to the next row's (the last row for the median
  step between rows; a single row for ever). Units come with the header
  (``time (s),bandwidth (Mbit/s)``) or with each value (``1.5 s,10 Mbit/s``). The trace
  starts at its first row's time.

Shipped traces live in the repository's ``traces/`` folder (real U.S. cellular links,
recorded with Saturator: AT&T LTE while driving, T-Mobile and Verizon LTE; GPL-3.0-or-
later, notice and licence text beside them). Every problem is one line naming the file
and, where it applies, the line number.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import units
from .errors import SeiError
from .units import Kind, UnitError

__all__ = [
    "LinkTrace",
    "TraceError",
    "read_link_trace",
    "resolve_trace",
    "shipped_traces_dir",
    "shipped_traces",
    "MAHIMAHI_PACKET",
]

#: Bytes one Mahimahi delivery opportunity carries.
MAHIMAHI_PACKET = 1500


class TraceError(SeiError):
    """A link trace that cannot be read: names the file and the line."""


@dataclass(frozen=True, eq=False)
class LinkTrace:
    """A parsed trace, in seconds and bytes per second.

    Attributes:
        path: the file.
        kind: ``opportunities`` (Mahimahi) or ``rates`` (CSV).
        times: ``opportunities``: each opportunity's time (s, repeats allowed);
            ``rates``: each segment's start (s, the first 0).
        rates: ``rates`` only: bytes per second from each time to the next.
        period: the trace's length (s); it repeats after it.
    """

    path: Path
    kind: str
    times: np.ndarray
    period: float
    rates: np.ndarray | None = None

    @property
    def mean_rate(self) -> float:
        """Average capacity over the trace, bytes per second."""
        if self.kind == "opportunities":
            return len(self.times) * MAHIMAHI_PACKET / self.period
        ends = np.append(self.times[1:], self.period)
        return float(np.sum(self.rates * (ends - self.times))) / self.period


def shipped_traces_dir() -> Path:
    """The traces that ship with sei (the repository's ``traces/``)."""
    return Path(__file__).resolve().parents[1] / "traces"


def shipped_traces() -> list[str]:
    """Names of the shipped trace files."""
    folder = shipped_traces_dir()
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.suffix in (".up", ".down", ".csv")
    )


def resolve_trace(text: str, source: str | None = None) -> Path:
    """The file a scenario's ``{trace: PATH}`` names: PATH as given if absolute, else
    relative to the scenario's folder, then the current folder, then the shipped
    ``traces/``.

    Raises:
        TraceError: no such file anywhere; the message lists the shipped traces.
    """
    path = Path(text).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = []
        if source:
            candidates.append(Path(source).parent / path)
        candidates += [Path.cwd() / path, shipped_traces_dir() / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if path.is_absolute():
        where = str(path)
    else:
        beside = "beside the scenario, " if source else ""
        where = f"{text} (looked {beside}in the current folder and in sei's traces/)"
    shipped = ", ".join(shipped_traces()) or "none"
    raise TraceError(f"no trace file {where}; shipped traces: {shipped}")


def read_link_trace(path: str | Path) -> LinkTrace:
    """Parse a Mahimahi or CSV trace (cached while the file is unchanged).

    Raises:
        TraceError: missing, empty, non-numeric, decreasing or all-zero traces, a CSV
            without ``time`` and ``bandwidth`` columns, values without units.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise TraceError(f"{path}: no such trace file") from None
    if path.is_dir():
        raise TraceError(f"{path}: is a folder, not a trace file")
    return _read(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _read(path: str, _mtime: int, _size: int) -> LinkTrace:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError:
        raise TraceError(f"{path}: is not a text file (a trace is text)") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot be read ({exc.strerror})") from None
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise TraceError(
            f"{path}: is empty; a trace is Mahimahi (one millisecond timestamp per line) "
            "or CSV (time,bandwidth)"
        )
    if re.search(r"[A-Za-z]", first):
        return _read_csv(Path(path), lines)
    return _read_mahimahi(Path(path), lines)


def _read_mahimahi(path: Path, lines: list[str]) -> LinkTrace:
    stamps: list[int] = []
    previous = 0
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            ms = int(text)
        except ValueError:
            raise TraceError(
                f"{path}: line {number}: {text!r} is not a whole number of milliseconds "
                "(Mahimahi: one timestamp per line; a CSV needs a time,bandwidth header)"
            ) from None
        if ms < 0:
            raise TraceError(f"{path}: line {number}: {ms} ms is negative; times start at 0")
        if ms < previous:
            raise TraceError(
                f"{path}: line {number}: {ms} ms comes after {previous} ms; timestamps must "
                "not decrease"
            )
        previous = ms
        stamps.append(ms)
    if stamps[-1] == 0:
        raise TraceError(
            f"{path}: every timestamp is 0 ms, so the trace has no length (Mahimahi loops "
            "over its last timestamp); give the times of delivery opportunities, e.g. 1"
        )
    return LinkTrace(
        path=path,
        kind="opportunities",
        times=np.asarray(stamps, dtype=float) / 1000.0,
        period=stamps[-1] / 1000.0,
    )


_HEADER_UNIT = re.compile(r"^\s*([A-Za-z_]+)\s*(?:[\(\[]\s*([^\)\]]*)\s*[\)\]])?\s*$")


def _read_csv(path: Path, lines: list[str]) -> LinkTrace:
    rows = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    header_line, header = rows[0]
    names: list[str] = []
    header_units: list[str] = []
    for cell in header.split(","):
        match = _HEADER_UNIT.match(cell)
        names.append(match.group(1).lower() if match else cell.strip().lower())
        header_units.append((match.group(2) or "").strip() if match else "")
    missing = [c for c in ("time", "bandwidth") if c not in names]
    if missing:
        raise TraceError(
            f"{path}: line {header_line}: the header has no {' and no '.join(missing)} "
            f"column (it has: {', '.join(names)}); a CSV trace needs time,bandwidth, "
            "e.g. 'time (s),bandwidth (Mbit/s)'"
        )
    t_col, b_col = names.index("time"), names.index("bandwidth")
    times: list[float] = []
    rates: list[float] = []
    for number, line in rows[1:]:
        cells = [c.strip() for c in line.split(",")]
        if len(cells) < len(names):
            raise TraceError(
                f"{path}: line {number}: {len(cells)} values for the {len(names)} columns "
                f"of the header ({', '.join(names)})"
            )
        t = _value(path, number, cells[t_col], header_units[t_col], Kind.TIME, "time")
        r = _value(path, number, cells[b_col], header_units[b_col], Kind.RATE, "bandwidth")
        if r < 0:
            raise TraceError(f"{path}: line {number}: a bandwidth cannot be negative")
        if times and t <= times[-1]:
            raise TraceError(
                f"{path}: line {number}: time {units.format_time(t)} does not come after "
                f"{units.format_time(times[-1])}; times must increase"
            )
        times.append(t)
        rates.append(r)
    if not times:
        raise TraceError(f"{path}: has a header but no rows; add time,bandwidth rows")
    if not any(r > 0 for r in rates):
        raise TraceError(f"{path}: every bandwidth is 0; a link needs some capacity")
    t = np.asarray(times) - times[0]
    steps = np.diff(t)
    last = float(np.median(steps)) if steps.size else 1.0
    period = float(t[-1] + last)
    return LinkTrace(path=path, kind="rates", times=t, period=period, rates=np.asarray(rates))


def _value(path: Path, number: int, cell: str, unit: str, kind: Kind, column: str) -> float:
    text = cell if not unit or re.search(r"[A-Za-z%/]", cell) else f"{cell} {unit}"
    try:
        return units.parse(text, kind)
    except UnitError as exc:
        if not unit and re.fullmatch(r"[-+0-9.eE]+", cell):
            example = "s" if kind is Kind.TIME else "Mbit/s"
            raise TraceError(
                f"{path}: line {number}: {column} {cell!r} needs a unit: give it in the "
                f"header, e.g. '{column} ({example})', or with the value"
            ) from None
        raise TraceError(f"{path}: line {number}: {column}: {exc}") from None
