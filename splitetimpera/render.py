"""What the CLI shows: rich tables, messages, progress bars and JSON on stdout.

Tables and messages go to stdout (:data:`out`), progress bars to stderr (:data:`err`), so
that ``--json`` output stays parseable. Output to a file or a pipe gets 120 columns, not
rich's 80, so that tables are not wrapped (a terminal, or ``COLUMNS``, decides for itself).
"""

from __future__ import annotations

import json
import math
import os
import sys

import pandas as pd
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .qos import describe_limits
from .store import jsonable
from .suggest import headroom_sentence
from .units import format_energy, format_fraction, format_size, format_time

__all__ = [
    "out",
    "err",
    "print_json",
    "emit",
    "with_progress",
    "show_validated",
    "show_summary",
    "show_channel",
    "show_codecs",
    "show_splits",
    "show_profile",
    "show_rank",
    "show_pruned",
    "show_sweep",
    "show_explore",
    "order_by_verdict",
]

_PIPED = not sys.stdout.isatty() and "COLUMNS" not in os.environ
out = Console(soft_wrap=True, width=120 if _PIPED else None)
err = Console(stderr=True, soft_wrap=True)


def print_json(obj) -> None:
    """``obj`` as indented JSON on stdout (NaN as null)."""
    print(json.dumps(jsonable(obj), indent=2, default=str), file=sys.stdout, flush=True)


def _progress_bar(transient: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
        console=err,
        transient=transient,
        disable=not err.is_terminal and os.environ.get("SEI_PROGRESS") != "1",
    )


def emit(result, as_json: bool, show) -> None:
    """``result.to_dict()`` as JSON, or ``show(result)`` as tables."""
    if as_json:
        print_json(result.to_dict())
    else:
        show(result)


def with_progress(title: str, work, *args, transient: bool = True, **kwargs):
    """Run ``work(*args, progress=..., **kwargs)`` under a progress bar on stderr."""
    with _progress_bar(transient) as bar:
        task = bar.add_task(title, total=None, note="")

        def tick(done: int, total: int | None, note: str = "") -> None:
            shown = next(t for t in bar.tasks if t.id == task)
            if done < shown.completed:  # a new round of the work: restart its bar and ETA
                bar.reset(task, total=total, completed=done, note=note)
            else:
                bar.update(task, completed=done, total=total, note=note)

        return work(*args, progress=tick, **kwargs)


def interval(lo, hi) -> str:
    """A latency confidence interval, compact: ``[7.31, 7.56] ms``; empty when unknown."""
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return ""
    unit, factor = ("s", 1.0) if hi >= 1 else ("ms", 1e3) if hi >= 1e-3 else ("us", 1e6)
    return f"[{lo * factor:.3g}, {hi * factor:.3g}] {unit}"


def _table(title: str, columns, **kwargs) -> Table:
    t = Table(title=title, title_justify="left", **kwargs)
    for col in columns:
        t.add_column(col)
    return t


# --------------------------------------------------------------------------- scenarios


def show_validated(path, s) -> None:
    """A valid scenario, resolved, one row per section."""
    net = s.network
    loss = (
        format_fraction(net.loss)
        if isinstance(net.loss, float)
        else f"Gilbert-Elliott, mean {format_fraction(net.loss.mean_loss)}"
    )
    table = Table(title=f"{path}: valid", show_header=False, title_justify="left")
    table.add_column("section", style="bold")
    table.add_column("resolved")
    shape = "x".join(map(str, s.model.resolved_input))
    method = s.splits.method if isinstance(s.splits.method, str) else ", ".join(s.splits.method)
    scaled = f" (scaled x{s.device.slowdown:g})" if s.device.slowdown != 1 else ""
    wl = s.workload
    rate = f"{wl.rate:g} fps" if wl.rate else f"trace {wl.trace}"
    deadline = format_time(wl.deadline) if wl.deadline else "none"
    rows = {
        "name / seed": f"{s.name} / {s.seed}",
        "model": f"{s.model.name}, weights {s.model.resolved_weights}, input {shape}",
        "dataset": f"{s.dataset.name}, classes {s.dataset.classes}, {s.dataset.samples} samples",
        "splits": f"{method}, top {s.splits.top_k}, compression {', '.join(s.splits.compression)}",
        "device": f"{s.device.count} x {s.device.profile}{scaled}, power "
        f"{_model_name(s.device.power)}"
        + (f", battery {format_energy(s.device.battery)}" if s.device.battery else ""),
        "server": f"{s.server.workers} worker(s) on {s.server.profile}",
        "network": f"{net.protocol} ({net.congestion}), {net.describe('up')} up, "
        f"{net.describe('down')} down, {format_time(net.delay)} one-way, "
        f"jitter {format_time(net.jitter)}, loss {loss}, MTU {net.mtu} B, {net.connection}, "
        f"fidelity {net.fidelity}, radio {_model_name(net.radio)}",
        "workload": f"{wl.arrival} {rate}, {wl.frames} frames/device, deadline {deadline}",
        "qos": f"{'; '.join(describe_limits(s.qos)) or 'no constraints'}; objective {s.qos.objective}",
        "modes": ", ".join(s.modes),
        "policy": _policy_text(s.policy),
        "output": str(s.results_dir),
    }
    for section, text in rows.items():
        table.add_row(section, text)
    out.print(table)


def _policy_text(policy) -> str:
    """Who chooses the configuration, in words."""
    text = "static (one configuration per run, every one simulated)"
    if policy.dynamic:
        text += "; per frame: " + ", ".join(policy.dynamic)
    if "adaptive" in policy.dynamic:
        text += (
            f" (adaptive: alpha {policy.alpha:g}, hysteresis {format_fraction(policy.hysteresis)}, "
            f"probe {format_time(policy.probe)}, caution {policy.caution:g})"
        )
    return text


def _model_name(value) -> str:
    """A power model as the scenario gives it: its name, ``inline``, or ``none``."""
    if value is None:
        return "none"
    return value if isinstance(value, str) else (value.name or "inline")


def order_by_verdict(table: pd.DataFrame) -> pd.DataFrame:
    """Feasible configurations by the objective's score, then the others by how far they miss."""
    feasible = table[table["feasible"]].sort_values(["score", "config"])
    others = table[~table["feasible"]].sort_values(["excess", "score", "config"])
    return pd.concat([feasible, others])


def _show_sources(result) -> None:
    """Which profiles and accuracy table the answer rests on, and how they were scaled."""
    s, meta = result.scenario, result.meta
    parts = []
    for role, spec in (("device", s.device), ("server", s.server)):
        info = meta.get(f"{role}_profile", {})
        text = f"{role} {info.get('described', spec.profile)}"
        if spec.slowdown != 1:
            text += f" [yellow]scaled x{spec.slowdown:g}[/yellow] (measured latencies multiplied)"
        parts.append(text)
    out.print(f"Profiles: {'; '.join(parts)}.")
    out.print(f"Accuracy: {meta.get('accuracy_source', 'unknown')}.")
    if s.device.power is not None or s.network.radio is not None:
        battery = f", battery {format_energy(s.device.battery)}" if s.device.battery else ""
        measured = (meta.get("energy") or {}).get("profile_power", "not measured")
        host = (
            f"{measured['mean_w']:.3g} W (RAPL)"
            if isinstance(measured, dict) and measured.get("mean_w") is not None
            else str(measured)
        )
        out.print(
            f"Power: board {_model_name(s.device.power)}, radio {_model_name(s.network.radio)}"
            f"{battery}; the profile's host while measured: {host}."
        )
    for note in meta.get("accuracy_notes", []):
        out.print(f"[yellow]Note:[/yellow] {note}.")


def show_summary(result, folder, limit: int = 15) -> None:
    """The configurations (feasible ones first, best first), why the others fail, the choice."""
    s = result.scenario
    p = s.qos.percentile
    table = result.summary
    order = order_by_verdict(table)
    t = Table(
        title=f"{s.name}: {len(table)} configurations, {int(table['feasible'].sum())} meet the QoS",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    energy = "energy_per_frame" in table and table["energy_per_frame"].notna().any()
    columns = ["config", "QoS", "acc", "p50", f"p{p:g}", "95% CI", "miss", "bytes/frame"]
    for col in [*columns, *(["energy/frame"] if energy else [])]:
        t.add_column(col, no_wrap=col != "config", overflow="fold")
    for _, r in order.head(limit).iterrows():
        style = "bold green" if r["chosen"] else ("" if r["feasible"] else "dim")
        cells = [
            str(r["config"]),
            "met" if r["feasible"] else "no",
            format_fraction(r["accuracy"], 3),
            format_time(r["latency_p50"], 3),
            format_time(r["latency_qos"], 3),
            interval(r.get("latency_qos_lo"), r.get("latency_qos_hi")),
            format_fraction(r["deadline_miss"], 3),
            format_size(r["bytes_per_frame"], 3),
        ]
        if energy:
            cells.append(format_energy(r["energy_per_frame"], 3))
        t.add_row(*cells, style=style)
    out.print(t)
    if len(order) > limit:
        out.print(f"[dim]... and {len(order) - limit} more in summary.csv[/dim]")
    failing = order[~order["feasible"]].head(5)
    if len(failing):
        out.print("Why the closest others fail:")
        for _, r in failing.iterrows():
            out.print(f"  {r['config']}: {r['violations']}")
    _show_sources(result)
    skipped = result.meta.get("codecs_not_applicable") or []
    if skipped:
        out.print(
            f"[dim]Not applicable (image codecs compress RC's input, tensor codecs split "
            f"tensors): {', '.join(skipped)}.[/dim]"
        )
    instead = result.meta.get("packet_instead_of_fast") or {}
    if s.network.fidelity == "fast" and instead:
        first, why = next(iter(instead.items()))
        out.print(
            f"[yellow]Fidelity:[/yellow] {len(table) - len(instead)} of {len(table)} "
            f"configurations drawn fast; {len(instead)} simulated packet by packet where fast "
            f"would not reproduce it (e.g. {first}: {why})."
        )
    colour = "green" if result.qos.chosen else "red"
    out.print(f"[{colour}]{result.qos.explanation}[/{colour}]")
    for warning in result.qos.warnings:
        out.print(f"[yellow]Warning:[/yellow] {warning}.")
    factors = [u.factor for u in result.qos.uncertain.get(result.qos.chosen, []) if u.factor]
    if factors:
        frames = math.ceil(max(factors) * result.meta.get("frames_per_device", s.workload.frames))
        out.print(f"  (try `--frames {frames}`: frames per device)")
    room = result.meta.get("headroom")
    if room:
        out.print(f"Headroom: {headroom_sentence(room)}")
    if result.meta.get("advice"):
        out.print(f"[yellow]What would make it feasible:[/yellow] {result.meta['advice']}")
    out.print(
        f"Results in [bold]{folder}[/bold] (report.html, summary.csv, frames.parquet, run.json)"
    )


# --------------------------------------------------------------------------- network, models


def show_codecs(rows: list[dict]) -> None:
    """The codecs ``splits.compression`` accepts."""
    t = _table(
        "Codecs for splits.compression (write name or name@value)",
        ("codec", "parameter", "applies to", "compresses", "lossless", "size", "what it does"),
    )
    for r in rows:
        t.add_row(
            r["written"], r["parameter"] or "–", ", ".join(r["applies_to"]), r["compresses"],
            "yes" if r["lossless"] else "no", r["size"], r["summary"],
        )  # fmt: skip
    out.print(t)


def show_channel(stats: dict, title: str) -> None:
    """One link's transfer-time distribution, over the transfers that were delivered."""
    t = _table(
        title,
        ("delivered", "median", "p5", "p95", "mean", "retransmissions/transfer", "pure sending"),
    )
    t.add_row(
        f"{stats['delivered']} of {stats['reps']} ({(1 - stats['loss']) * 100:.3g}%)",
        format_time(stats["median_s"]),
        format_time(stats["p5_s"]),
        format_time(stats["p95_s"]),
        format_time(stats["mean_s"]),
        f"{stats['retransmissions_mean']:.3g}",
        format_time(stats["pure_sending_s"]),
    )
    out.print(t)
    if stats["delivered"] == 0 and stats.get("protocol") == "udp":
        out.print(
            "[red]No transfer was delivered: UDP loses a payload when any of its packets is "
            "lost, and this payload needs many packets.[/red]"
        )


def show_splits(name: str, shape, rows: list[dict], verify: bool, failures: list[str]) -> None:
    """A model's split points; with ``verify``, each one's difference from the model."""
    cols = ["depth", "split", "tensors", "shapes", "fp32", "int8", "head GFLOPs", "tail GFLOPs", "head params"]  # fmt: skip
    if verify:
        cols.append("max |diff|")
    t = Table(
        title=f"{name} at {'x'.join(map(str, shape))}: {len(rows)} split points",
        title_justify="left",
    )
    for c in cols:
        t.add_column(c, no_wrap=c != "shapes")
    for r in rows:
        cells = [
            str(r["depth"]), r["split"], str(r["n_tensors"]), r["shapes"],
            format_size(r["payload_fp32"]), format_size(r["payload_int8"]),
            f"{r['head_flops'] / 1e9:.3g}", f"{r['tail_flops'] / 1e9:.3g}", f"{r['head_params']:,}",
        ]  # fmt: skip
        if verify:
            d = r.get("max_abs_diff")
            cells.append("–" if d is None else (f"[red]{d:.2e}[/red]" if d > 1e-5 else f"{d:.1e}"))
        t.add_row(*cells)
    out.print(t)
    if not verify:
        return
    if failures:
        out.print(
            f"[red]{len(failures)} split(s) differ by more than 1e-5: {', '.join(failures)}[/red]"
        )
    else:
        out.print(
            f"[green]All {len(rows)} splits reproduce the model (max |diff| <= 1e-5).[/green]"
        )


def show_profile(model: str, batch: int, result, errors) -> None:
    """A measured profile: head and tail latency per split, and how well they add up."""
    meta = result.meta
    t = _table(
        f"{model} on {meta['hardware']} ({meta.get('gpu') or meta.get('cpu')}, {meta['threads']} threads, batch {batch})",
        ("split", "head median", "head p95", "tail median", "tail p95", "head+tail vs full"),
    )
    for (_, r), error in zip(result.table.iterrows(), errors):
        t.add_row(
            r["split"], format_time(r["head_median_s"]), format_time(r["head_p95_s"]),
            format_time(r["tail_median_s"]), format_time(r["tail_p95_s"]), f"{error * 100:+.1f}%",
        )  # fmt: skip
    out.print(t)
    share = meta["within_10pct"]
    colour = "green" if share >= 0.9 else "yellow"
    out.print(
        f"[{colour}]Profile accuracy: head+tail within ±10% of the full model (median "
        f"{format_time(meta['full_median_s'])}) for {share * 100:.0f}% of splits.[/{colour}] "
        f"Written {result.path}"
    )
    power = meta.get("power", "not measured")
    if isinstance(power, dict):
        out.print(
            f"Host power while measuring: {power['joules']:.4g} J in {power['seconds']:.3g} s, "
            f"{power['mean_w']:.3g} W on average ({power['source']}; the whole package)."
        )
    else:
        out.print(f"Host power: {power}.")


def show_trained(model: str, record: dict) -> None:
    out.print(
        f"[green]{model}: test accuracy {record['test_accuracy'] * 100:.2f}% "
        f"({record['test_samples']} held-out digits), {record['epochs']} epochs in "
        f"{record['train_seconds']:.1f} s.[/green] Saved {record['checkpoint']}"
    )


# --------------------------------------------------------------------------- interpretability


def show_rank(result, paths: dict[str, str]) -> None:
    """The I-SPLIT ranking, its candidates, notes and measured accuracies."""
    splits = result.scenario.splits
    t = _table(
        f"I-SPLIT ranking of {result.scenario.model.name} (classes: {result.classes}; "
        f"layers: {splits.layers}; candidates: {splits.candidates})",
        ("rank", "split", "depth", "log10 CUI", "payload fp32", "I-SPLIT", "CDE"),
    )
    for _, r in result.table.sort_values("rank").head(12).iterrows():
        t.add_row(
            str(r["rank"]), r["split"], str(r["depth"]), f"{r['log10_cui']:.3f}", format_size(r["payload_bytes"]),
            "yes" if r["isplit_candidate"] else "", "yes" if r["cde_candidate"] else "",
        )  # fmt: skip
    out.print(t)
    out.print(
        f"I-SPLIT candidates: [bold]{', '.join(result.candidates) or 'none'}[/bold]; CDE: {', '.join(result.cde) or 'none'}"
    )
    for note in result.notes:
        out.print(f"[yellow]{note}[/yellow]")
    if result.accuracy is not None:
        a = _table(
            "Accuracy at the candidates (held-out test images)",
            ("split", "compression", "payload", "accuracy", "samples"),
        )
        for _, r in result.accuracy.iterrows():
            a.add_row(
                r["split"], r["compression"], format_size(r["payload_bytes"]),
                format_fraction(r["accuracy"]), str(r["samples"]),
            )  # fmt: skip
        out.print(a)
    out.print("Written: " + ", ".join(paths.values()))


def show_pruned(summary: dict) -> None:
    m = summary.get("integration_steps")
    how = f"{summary['criterion']} (m = {m})" if m else summary["criterion"]
    out.print(
        f"[green]{summary['model']} pruned with {how} at {summary['split']}: head FLOPs "
        f"{summary['head_flops_before'] / 1e6:.3g}M -> {summary['head_flops_after'] / 1e6:.3g}M "
        f"({summary['flops_reduction'] * 100:.1f}% removed), accuracy {summary['accuracy_before'] * 100:.2f}% -> "
        f"{summary['accuracy_after'] * 100:.2f}%.[/green]"
    )
    out.print(
        f"Saved {summary['path']}"
        + (f"; profile {summary['profile']}" if summary.get("profile") else "")
    )


# --------------------------------------------------------------------------- studies


def show_sweep(result) -> None:
    """A sweep's points: the chosen configuration and its figures at each."""
    c = result.counts
    t = _table(
        f"sweep: {c['points']} points ({c['reused']} reused, {c['failed']} failed"
        + (f", {c['damaged']} damaged and recomputed" if c.get("damaged") else "")
        + ")",
        [*(a.key for a in result.axes), "chosen", "latency", "accuracy"],
    )
    for _, r in result.points.iterrows():
        if r["status"] != "ok":
            cells = ["[red]failed[/red]", "", str(r["error"])[:60]]
        else:
            name = r["chosen"] or f"[red]none[/red] (closest {r['closest']})"
            cells = [
                name,
                f"{format_time(r['latency_qos'])} {interval(r.get('latency_qos_lo'), r.get('latency_qos_hi'))}",
                format_fraction(r["accuracy"]),
            ]
        t.add_row(*[str(r[a.key]) for a in result.axes], *cells)
    out.print(t)
    folder = result.folder
    out.print(
        f"Written {folder / 'points.csv'}, {folder / 'sweep.csv'} and {folder / 'report.html'}"
    )


def show_explore(result) -> None:
    """An exploration's Pareto-optimal designs (exact ties merged), and which combinations
    were left out."""
    dims = list(result.spec.dimensions)
    groups = result.pareto_groups
    costed = "cost" in groups
    cost_name = result.spec.cost.name if result.spec.cost else "cost"
    t = _table(
        f"{len(result.pareto)} Pareto-optimal of {len(result.designs)} designs evaluated "
        f"(space: {result.spec.size}), {len(groups)} distinct",
        [*dims, "designs", "QoS", "configuration", "latency", "accuracy", "bytes/frame"]
        + ([cost_name] if costed else []),
    )
    for _, r in groups.iterrows():
        ok = "[green]met[/green]" if r["feasible"] else "[red]not met[/red]"
        cells = [
            *[str(r[d]) for d in dims], str(r["designs"]), ok, str(r["chosen"] or r["closest"]),
            format_time(r["latency_qos"]),  # its interval: designs.csv and the report
            format_fraction(r["accuracy"]), format_size(r["bytes_per_frame"]),
        ]  # fmt: skip
        if costed:
            cells.append(f"{r['cost']:.4g}")
        t.add_row(*cells)
    out.print(t)
    if result.invalid:
        first = result.invalid[0]
        which = ", ".join(f"{d}={first[d]}" for d in dims)
        out.print(
            f"[yellow]{len(result.invalid)} design(s) left out: not valid scenarios[/yellow] "
            f"(e.g. {which}: {first['error']})"
        )
    out.print(f"Written {result.folder / 'designs.csv'} and {result.folder / 'report.html'}")
