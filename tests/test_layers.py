"""The package's layers import one way (import-linter's contracts) and form no cycle."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import grimp
import networkx as nx

from .conftest import REPO


def test_import_linter_contracts_are_kept():
    command = shutil.which("lint-imports") or "lint-imports"
    done = subprocess.run([command], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"Contracts: \d+ kept, 0 broken\.", done.stdout), done.stdout[-500:]


def test_every_module_belongs_to_a_layer():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    listed = {name.strip() for layer in layers for name in layer.split(":")}
    graph = grimp.build_graph("splitetimpera")
    top = {".".join(m.split(".")[:2]) for m in graph.modules if m != "splitetimpera"}
    assert top - listed == set(), "add these modules to a layer in pyproject.toml"


def test_no_import_cycle_lazy_imports_included():
    graph = grimp.build_graph("splitetimpera")
    edges = nx.DiGraph(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
    )
    assert list(nx.simple_cycles(edges)) == []


def test_the_cli_starts_without_the_heavy_libraries():
    code = (
        "import sys; from splitetimpera.cli import app; "
        "heavy = [m for m in ('torch', 'pandas', 'simpy', 'plotly') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
