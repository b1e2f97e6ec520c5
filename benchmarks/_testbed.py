"""A real-network testbed for the benchmarks: two namespaces joined by an emulated link.

This kernel has no netem, so the link is ``linkemu.c`` (compiled here at run time): one
TUN device in each namespace, and per direction a drop-tail queue, serialisation at the
link rate, independent random loss and a fixed one-way delay, by the same rules as
``sei``'s :class:`~splitetimpera.sim.channel.Link`. Needs Linux and root (namespaces,
TUN, a real-time thread for the emulator); :func:`unavailable` says why not.

Everything created here (namespaces, the emulator, processes started in the namespaces)
is removed on exit, on an exception, on Ctrl-C and on SIGTERM.

``python benchmarks/_testbed.py`` runs the emulator's self-check on its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "linkemu.c"
#: Namespaces carry the owning process id, so that runs never collide and a run killed
#: with SIGKILL leaves names the next run recognises as stale.
NS_A, NS_B = f"sei-tb{os.getpid()}-dev", f"sei-tb{os.getpid()}-srv"
_NS_PATTERN = re.compile(r"^sei-tb(\d+)-(dev|srv)\b")
TUN = "seitun0"
ADDR_A, ADDR_B = "10.199.0.1", "10.199.0.2"
#: Ethernet per-packet overhead beyond IP (header 14, FCS 4, preamble 8, gap 12), the
#: same default as sei's LinkParams.overhead.
OVERHEAD = 38


def unavailable() -> str | None:
    """Why the testbed cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return "the testbed needs Linux (network namespaces and TUN devices)"
    if os.geteuid() != 0:
        return "the testbed needs root (network namespaces, TUN devices); run it with sudo"
    for tool in ("ip", "gcc"):
        if shutil.which(tool) is None:
            return f"the testbed needs `{tool}` on PATH"
    if not Path("/dev/net/tun").exists():
        return "the testbed needs /dev/net/tun"
    return None


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def compile_emulator() -> Path:
    """Compile linkemu.c once per source version; returns the binary."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    binary = Path(tempfile.gettempdir()) / f"sei-linkemu-{digest}"
    if not binary.is_file():
        tmp = binary.with_suffix(".tmp")
        _run("gcc", "-O2", "-Wall", "-o", str(tmp), str(SOURCE), "-lpthread")
        tmp.replace(binary)
    return binary


@dataclass(frozen=True)
class LinkSetting:
    """One emulated link; the reverse direction has the same rate, delay and loss unless
    given. Rates in bit/s, delays in seconds, loss a probability."""

    rate_bps: float
    delay_s: float
    loss: float = 0.0
    queue: int = 1000
    overhead: int = OVERHEAD
    reverse_rate_bps: float | None = None
    reverse_delay_s: float | None = None
    reverse_loss: float | None = None

    @property
    def reverse(self) -> tuple[float, float, float]:
        return (
            self.reverse_rate_bps if self.reverse_rate_bps is not None else self.rate_bps,
            self.reverse_delay_s if self.reverse_delay_s is not None else self.delay_s,
            self.reverse_loss if self.reverse_loss is not None else self.loss,
        )


class _Terminated(Exception):
    pass


def _on_sigterm(signum, frame):
    raise _Terminated(f"signal {signum}")


class Testbed:
    """Two namespaces (device ``a``, server ``b``) and, while :meth:`link` is open, the
    emulated link between them. Use as a context manager."""

    def __init__(self, no_metrics_save: bool = True):
        self.no_metrics_save = no_metrics_save
        self.procs: list[subprocess.Popen] = []
        self._emulator: subprocess.Popen | None = None
        self._old_sigterm = None

    # ---------------------------------------------------------------- set-up
    def __enter__(self) -> Testbed:
        why = unavailable()
        if why:
            raise RuntimeError(why)
        self._old_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
        self.binary = compile_emulator()
        try:
            self._remove_namespaces()  # a leftover of a run killed with SIGKILL
            for ns in (NS_A, NS_B):
                _run("ip", "netns", "add", ns)
                _run("ip", "-n", ns, "link", "set", "lo", "up")
                # The default congestion control of a namespace other than the first can
                # only be one in tcp_allowed_congestion_control (a machine-wide list), so
                # the traffic ends set CUBIC on each socket (TCP_CONGESTION) instead.
                settings = {"net.ipv4.tcp_no_metrics_save": "1" if self.no_metrics_save else "0"}
                for key, value in settings.items():
                    _run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            for proc in self.procs:
                self._stop(proc)
            self.procs.clear()
            self._stop_emulator()
            self._remove_namespaces()
        finally:
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None

    @staticmethod
    def _remove_namespaces() -> None:
        """Delete this run's namespaces, and those of testbed runs no longer alive."""
        for line in _run("ip", "netns", "list", check=False).stdout.splitlines():
            match = _NS_PATTERN.match(line)
            if not match:
                continue
            pid = int(match.group(1))
            if pid == os.getpid() or not Path(f"/proc/{pid}").exists():
                _run("ip", "netns", "delete", line.split()[0], check=False)

    @staticmethod
    def _stop(proc: subprocess.Popen, timeout: float = 5.0) -> None:
        if proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    # ---------------------------------------------------------------- the link
    @contextlib.contextmanager
    def link(self, setting: LinkSetting, seed: int = 1, log: Path | None = None):
        """Start the emulator with ``setting``; yields a dict that holds its counters
        (``"ab"``, ``"ba"``) once the block ends."""
        rev_rate, rev_delay, rev_loss = setting.reverse
        argv = [
            str(self.binary), NS_A, TUN, NS_B, TUN,
            repr(float(setting.rate_bps)), repr(float(setting.delay_s)), repr(float(setting.loss)),
            repr(float(rev_rate)), repr(float(rev_delay)), repr(float(rev_loss)),
            str(setting.queue), str(setting.overhead), str(seed),
        ]  # fmt: skip
        if log is not None:
            argv.append(str(log))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._emulator = proc
        counters: dict = {}
        try:
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"link emulator failed: {line} {proc.stderr.read()}")
            for ns, here, there in ((NS_A, ADDR_A, ADDR_B), (NS_B, ADDR_B, ADDR_A)):
                _run("ip", "-n", ns, "addr", "add", here, "peer", there, "dev", TUN)
                _run("ip", "-n", ns, "link", "set", TUN, "txqueuelen", "1000", "up")
            yield counters
        finally:
            counters.update(self._stop_emulator())

    def _stop_emulator(self) -> dict:
        proc, self._emulator = self._emulator, None
        if proc is None:
            return {}
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        counters = {}
        for line in out.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                counters[row.pop("dir")] = row
        return counters

    # ---------------------------------------------------------------- processes
    def spawn(
        self, side: str, argv: list[str], realtime: bool = False, **kwargs
    ) -> subprocess.Popen:
        """Start ``argv`` in the device (``a``) or server (``b``) namespace; ``realtime``
        runs it SCHED_FIFO, so that a loaded machine does not delay its reads and writes
        (only for processes that block, never spin)."""
        ns = NS_A if side == "a" else NS_B
        prefix = ["chrt", "-f", "20"] if realtime and shutil.which("chrt") else []
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *prefix, *argv], **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> str:
        """Stop a spawned process that runs until told (SIGTERM); returns its output."""
        self._stop(proc)
        out, _ = proc.communicate()
        if proc in self.procs:
            self.procs.remove(proc)
        return out

    def finish(self, proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
        """Wait for a spawned process and return its output; it is killed on timeout."""
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._stop(proc)
            out, err = proc.communicate()
            raise RuntimeError(f"{proc.args} did not finish in {timeout} s: {err}") from None
        finally:
            if proc in self.procs:
                self.procs.remove(proc)
        if proc.returncode != 0:
            raise RuntimeError(f"{proc.args} failed ({proc.returncode}): {err}")
        return out, err


# -------------------------------------------------------------------- self-check

PROBE = [sys.executable, str(HERE / "_probe.py")]


def binomial_interval(n: int, p: float, z: float = 2.576) -> tuple[float, float]:
    """The 99 % interval of a loss share over n packets (normal approximation)."""
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def check_link(bed: Testbed, setting: LinkSetting, seconds: float = 2.0, seed: int = 7) -> dict:
    """Measure one emulated link from outside: delivered rate, one-way delay, loss.

    Rate: UDP sent at 1.25x the link rate for ``seconds``; the receiver's wire bytes over
    the arrival span of the packets that queued. Delay: 300 small probes 7 ms apart,
    kernel receive timestamps; the delay the link adds is the probes' median one-way time
    minus the same path with no delay (the stack's own cost, reported apart). Loss: 20,000
    small packets below the link rate; their loss share against the 99 % binomial interval.
    The delay check compares 5th percentiles, which the host's scheduling noise (two
    shared cores) does not move; the medians are reported beside them.
    """
    out: dict = {"setting": asdict(setting)}

    def udp(send_args: list[str], recv_args: list[str], timeout: float) -> dict:
        recv = bed.spawn("b", [*PROBE, "udp-recv", *recv_args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(0.3)
        send = bed.spawn("a", [*PROBE, "udp-send", ADDR_B, *send_args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)  # fmt: skip
        sent = json.loads(bed.finish(send, timeout)[0])
        got = json.loads(bed.finish(recv, timeout)[0])
        return {"sent": sent, "received": got}

    base = LinkSetting(setting.rate_bps, 0.0, 0.0, setting.queue, setting.overhead)
    with bed.link(base):
        zero = udp(["probe", "300", "0.007", "64"], ["probe", "4"], 30)
    with bed.link(LinkSetting(setting.rate_bps, setting.delay_s, 0.0, setting.queue,
                              setting.overhead)) as counters:  # fmt: skip
        probes = udp(["probe", "300", "0.007", "64"], ["probe", "4"], 30)
        wire = 1472 + 28 + setting.overhead
        burst = udp(["rate", str(setting.rate_bps * 1.25 / 8 / wire), str(seconds), "1472"],
                    ["rate", str(seconds + 2)], seconds + 30)  # fmt: skip
    serialise_probe = (64 + 28 + setting.overhead) * 8 / setting.rate_bps
    owd = probes["received"]["one_way_s"]
    base_owd = zero["received"]["one_way_s"]
    added = probes["received"]["one_way_p5_s"] - zero["received"]["one_way_p5_s"]
    rate = burst["received"]["bytes"] and (
        (burst["received"]["packets"] - 1) * wire * 8 / burst["received"]["span_s"]
    )
    out["rate"] = {"set_bps": setting.rate_bps, "delivered_bps": rate,
                   "relative_error": rate / setting.rate_bps - 1,
                   "packets": burst["received"]["packets"]}  # fmt: skip
    out["delay"] = {"set_s": setting.delay_s, "one_way_median_s": owd,
                    "stack_median_s": base_owd, "serialise_s": serialise_probe,
                    "added_s": added, "added_median_s": owd - base_owd, "relative_error": added / setting.delay_s - 1
                    if setting.delay_s else math.nan,
                    "emulator_late_max_s": counters.get("ab", {}).get("late_max_s")}  # fmt: skip
    if setting.loss > 0:
        with bed.link(setting, seed=seed) as counters:
            lossy = udp(["probe", "20000", "0.0002", "64"], ["count", "12"], 60)
        n = lossy["sent"]["packets"]
        share = 1 - lossy["received"]["packets"] / n
        low, high = binomial_interval(n, setting.loss)
        out["loss"] = {"set": setting.loss, "sent": n, "received": lossy["received"]["packets"],
                       "share": share, "interval_99": [low, high],
                       "within": low <= share <= high}  # fmt: skip
    out["rate"]["within_1pct"] = abs(out["rate"]["relative_error"]) <= 0.01
    out["delay"]["within_1pct"] = abs(out["delay"]["relative_error"]) <= 0.01
    return out


SELF_CHECKS = (
    LinkSetting(10e6, 0.005, 0.01),
    LinkSetting(100e6, 0.002, 0.01),
    LinkSetting(100e6, 0.025, 0.03),
)


def self_check(bed: Testbed, settings=SELF_CHECKS, log=print) -> list[dict]:
    rows = []
    for seed, setting in enumerate(settings, start=7):
        row = check_link(bed, setting, seed=seed)
        rows.append(row)
        r, d, loss = row["rate"], row["delay"], row.get("loss", {})
        log(
            f"link {setting.rate_bps / 1e6:g} Mbit/s {setting.delay_s * 1e3:g} ms "
            f"{setting.loss:.0%}: rate {r['delivered_bps'] / 1e6:.3f} Mbit/s "
            f"({r['relative_error']:+.2%}), delay added {d['added_s'] * 1e3:.3f} ms "
            f"({d['relative_error']:+.2%}; stack {d['stack_median_s'] * 1e6:.0f} us), "
            f"loss {loss.get('share', 0):.2%} in [{loss.get('interval_99', [0, 0])[0]:.2%}, "
            f"{loss.get('interval_99', [0, 0])[1]:.2%}]"
        )
    return rows


if __name__ == "__main__":
    why = unavailable()
    if why:
        sys.exit(f"skipped: {why}")
    with Testbed() as bed:
        result = self_check(bed)
    ok = all(r["rate"]["within_1pct"] and r["delay"]["within_1pct"]
             and r.get("loss", {}).get("within", True) for r in result)  # fmt: skip
    print("emulator self-check:", "pass" if ok else "FAIL")
