"""The command line through typer's CliRunner: help, errors, JSON, results on disk."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from splitetimpera import __version__
from splitetimpera.cli import app

runner = CliRunner()

COMMANDS = [
    "validate",
    "simulate",
    "splits",
    "profile",
    "train",
    "rank",
    "channel",
    "sweep",
    "explore",
    "prune",
    "report",
]


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"sei {__version__}"


def test_top_level_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout and len(result.stdout) > 200


def test_validate_good_scenario(write_scenario):
    path = write_scenario()
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout and "10 Mbit/s" in result.stdout
    as_json = runner.invoke(app, ["validate", str(path), "--json"])
    data = json.loads(as_json.stdout)
    assert data["valid"] and data["resolved"]["network"]["bandwidth"] == pytest.approx(1.25e6)
    assert data["scenario"]["network"]["bandwidth"] == "1250000 B/s"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("network: {bandwidth: 54}", "needs a unit"),
        ("name: x\n", "model: is required but missing"),
        ("- 1\n- 2\n", "must be a mapping of sections"),
    ],
)
def test_validate_bad_scenario_is_one_line_exit_2(tmp_path, profiles, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("device", "network", "key", "fragment"),
    [
        ("power: rpi9", "", "device.power", "unknown device power model 'rpi9'"),
        ("", "radio: ltee", "network.radio", "did you mean 'lte'?"),
        ("power: {idle: '-1 W', active: '3 W'}", "", "device.power.idle", "out of range"),
        ("power: {idle: '1', active: '3 W'}", "", "device.power.idle", "needs a unit"),
        (
            "",
            "radio: {transfer: {base: '1 W'}, idle: '0 W', tail: {duration: '1 s'}}",
            "network.radio.tail.power",
            "is required but missing",
        ),
        ("battery: '10 h'", "", "device.battery", "unknown energy unit 'h'"),
        # the radio obeys the same rules as the board
        (
            "",
            "radio: {transfer: {base: '-1 W'}, idle: '0 W'}",
            "network.radio.transfer.base",
            "out of range",
        ),
        (
            "",
            "radio: {transfer: {base: '1.2'}, idle: '0 W'}",
            "network.radio.transfer.base",
            "needs a unit",
        ),
        (
            "",
            "radio: {transfer: {base: '1 W'}, idle: '0 W', promotion: {duration: '260 ms'}}",
            "network.radio.promotion.power",
            "is required but missing",
        ),
    ],
)
@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_bad_power_models_are_one_line_exit_2(
    write_scenario, command, device, network, key, fragment
):
    from .conftest import BASE_SCENARIO

    text = BASE_SCENARIO.replace(
        "device: {profile: testhw}",
        "device: {profile: testhw" + (f", {device}" if device else "") + "}",
    ).replace('delay: "5 ms"}', 'delay: "5 ms"' + (f", {network}" if network else "") + "}")
    path = write_scenario(text)
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {key}: "), result.stderr
    assert fragment in lines[0]


def test_missing_file_is_exit_2(tmp_path):
    result = runner.invoke(app, ["simulate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such file" in result.stderr
    assert "Traceback" not in result.output


def test_simulate_writes_results_and_prints_the_choice(write_scenario, tmp_path):
    path = write_scenario()
    result = runner.invoke(app, ["simulate", str(path), "--frames", "10"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "results" / "test"
    for name in ("frames.parquet", "summary.csv", "run.json", "report.html"):
        assert (folder / name).is_file()
    assert "configurations meet the QoS" in result.stdout


def test_simulate_json(write_scenario):
    result = runner.invoke(
        app, ["simulate", str(write_scenario()), "--frames", "5", "--json", "--no-report"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["qos"]["chosen"] in {row["config"] for row in data["summary"]}
    assert len(data["summary"]) == 1 + 1 + 4  # LC, RC and four splits


def test_simulate_infeasible_suggests_a_bandwidth(write_scenario):
    text = (
        "name: slow\nseed: 1\nmodel: {name: digits_vgg}\nsplits: {method: [features.7]}\nmodes: [SC]\n"
        "device: {profile: testhw}\nserver: {profile: testhw}\n"
        'network: {protocol: udp, bandwidth: "2 Mbit/s", delay: "5 ms"}\n'
        'workload: {rate: "5 fps", frames: 10}\nqos: {max_latency: "100 ms"}\n'
    )
    result = runner.invoke(app, ["simulate", str(write_scenario(text)), "--json", "--no-report"])
    data = json.loads(result.stdout)
    assert data["qos"]["chosen"] is None
    assert "becomes feasible from about" in data["suggestion"]


def test_simulate_overrides(write_scenario, tmp_path):
    path = write_scenario()
    args = ["simulate", str(path), "--frames", "5", "--seed", "3", "--fidelity", "fast"]
    result = runner.invoke(app, [*args, "--json", "--no-report", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    run = json.loads((tmp_path / "o" / "run.json").read_text())
    assert run["seed"] == 3 and run["scenario"]["seed"] == 3
    assert run["fidelity"] == "fast" and run["scenario"]["network"]["fidelity"] == "fast"
    assert run["frames_per_device"] == 5
    assert all(row["frames"] == 5 for row in json.loads(result.stdout)["summary"])
    # the scenario file itself is untouched
    assert "seed: 7" in path.read_text()


def test_report_rewrites_from_files(write_scenario, tmp_path):
    runner.invoke(app, ["simulate", str(write_scenario()), "--frames", "5"])
    folder = tmp_path / "results" / "test"
    (folder / "report.html").unlink()
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").stat().st_size > 100_000


def test_report_on_a_folder_that_is_not_results(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "not a results folder (no run.json)" in result.stderr


def test_channel_json():
    result = runner.invoke(
        app,
        [
            "channel",
            "--protocol",
            "tcp",
            "--bandwidth",
            "100 Mbit/s",
            "--delay",
            "25 ms",
            "--loss",
            "0%",
            "--payload",
            "1 MB",
            "--reps",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 0.35 < data["median_s"] < 0.45 and data["retransmissions_mean"] == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--bandwidth", "54"], "--bandwidth: '54' needs a unit"),
        (["--loss", "150%"], "--loss: 150% is out of range"),
        (["--payload", "0 B"], "--payload: 0 B is out of range [1 B, inf)"),
        (["--congestion", "bbr"], "--congestion: unknown"),
    ],
)
def test_channel_bad_input(args, fragment):
    result = runner.invoke(app, ["channel", *args, "--reps", "2"])
    assert result.exit_code == 2
    assert fragment in result.stderr


def _sei(*args, cwd=None):
    """The real console entry point, as a user's shell runs it."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "splitetimpera.cli", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["simulate", "x.yaml", "--frams", "3"],
            "No such option: --frams (Possible options: --frames)",
        ),
        (["simulate"], "Missing argument 'scenario'"),
        (["simulate", "x.yaml", "--fidelity", "slow"], "'slow' is not one of 'packet', 'fast'"),
        (["nope"], "No such command 'nope'"),
    ],
)
def test_a_bad_command_line_is_one_line_exit_2(args, fragment):
    done = _sei(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: sei") and fragment in lines[0]


def test_an_unwritable_output_folder_is_refused_before_simulating(write_scenario, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = _sei("simulate", str(write_scenario()), "-o", str(blocker / "out"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        f"error: {blocker / 'out'}: cannot write results there (Not a directory); "
        "choose another folder with -o"
    )


def test_duplicate_keys_are_refused_with_their_lines(write_scenario):
    from .conftest import BASE_SCENARIO

    path = write_scenario(BASE_SCENARIO + "seed: 9\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "seed: is given twice (lines 2 and 10); keep one" in result.stderr


def test_names_may_use_letters_of_any_script(write_scenario):
    from .conftest import BASE_SCENARIO

    path = write_scenario(BASE_SCENARIO.replace("name: test", "name: wifi-ünïcødé"))
    result = runner.invoke(app, ["validate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scenario"]["name"] == "wifi-ünïcødé"
    assert "bytes per second (not bits" in data["resolved_units"]
    bad = write_scenario(BASE_SCENARIO.replace("name: test", "name: a/b"), "bad.yaml")
    assert "is not a usable name" in runner.invoke(app, ["validate", str(bad)]).stderr


def test_a_model_that_cannot_take_the_input_is_one_line():
    result = runner.invoke(app, ["splits", "digits_vgg", "--input", "3x2x2"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DigitsVGG does not run on a 3x2x2 input" in lines[0]


def test_channel_shows_the_delivered_share():
    result = runner.invoke(
        app,
        [
            "channel",
            "--protocol",
            "udp",
            "--payload",
            "1 MB",
            "--loss",
            "1%",
            "--reps",
            "5",
            "--json",
        ],
    )
    data = json.loads(result.stdout)
    assert data["delivered"] == 0 and data["loss"] == 1.0 and data["loss_rate"] == 0.01
    shown = runner.invoke(
        app, ["channel", "--protocol", "udp", "--payload", "1 MB", "--loss", "1%", "--reps", "5"]
    )
    assert "0 of 5 (0%)" in shown.stdout and "No transfer was delivered" in shown.stdout


def test_a_run_that_cannot_fit_in_memory_is_refused_at_once(write_scenario):
    done = _sei("simulate", str(write_scenario()), "--frames", "100000000000")
    assert done.returncode == 2 and done.stdout == ""
    assert "of memory free here; use fewer --frames" in done.stderr


def test_a_long_run_asks_for_yes(write_scenario, tmp_path, monkeypatch):
    from splitetimpera.pipeline import estimate as budget

    monkeypatch.setattr(budget, "LARGE_RUN", 10)
    monkeypatch.setattr(budget, "ASK_SECONDS", 0)
    path = str(write_scenario())
    refused = runner.invoke(app, ["simulate", path, "--frames", "30", "-o", str(tmp_path / "a")])
    assert refused.exit_code == 2 and "add --yes to run it anyway" in refused.stderr
    assert not (tmp_path / "a" / "summary.csv").exists()
    ran = runner.invoke(
        app, ["simulate", path, "--frames", "30", "--yes", "-o", str(tmp_path / "b")]
    )
    assert ran.exit_code == 0, ran.output
    assert "This run: 180 frames over 6 configurations" in ran.stderr


def test_streamed_frames_are_the_simulated_frames(write_scenario, tmp_path):
    from splitetimpera.pipeline import load_scenario, simulate
    from splitetimpera.results import read_result

    path = write_scenario()
    assert runner.invoke(app, ["simulate", str(path), "-o", str(tmp_path / "s")]).exit_code == 0
    written = read_result(tmp_path / "s")
    direct = simulate(load_scenario(path))
    import pandas as pd

    pd.testing.assert_frame_equal(written.frames, direct.frames)
    assert not list((tmp_path / "s").glob(".*tmp"))
