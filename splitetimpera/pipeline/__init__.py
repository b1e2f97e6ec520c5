"""The pipeline: from a scenario to results in memory, writing nothing.

* :func:`load_scenario` / :func:`scenario_from_dict`: a scenario, every name checked.
* :func:`simulate`: every configuration of a scenario, the QoS verdict (:class:`Result`).
* :func:`rank`: the I-SPLIT ranking and the candidates' accuracy (:class:`RankResult`).
* :func:`prune`: a pruned head and its figures (:class:`PruneResult`).
* :func:`advise`: what would make an infeasible scenario feasible.

:mod:`splitetimpera.results` writes and reads results folders.
"""

from .advice import advise, headroom
from .check import check_names, check_network_names, load_scenario, scenario_from_dict
from .estimate import Budget, available_memory, budget, guard
from .plan import Configuration, plan
from .policy import bounds
from .prune import PruneResult, default_path, prune
from .rank import LAYER_COLUMNS, RankResult, rank
from .simulate import LINK_COLUMNS, SUMMARY_COLUMNS, Result, isplit_for, network_params, simulate

__all__ = [
    "load_scenario",
    "scenario_from_dict",
    "check_names",
    "check_network_names",
    "simulate",
    "isplit_for",
    "network_params",
    "Result",
    "Configuration",
    "plan",
    "bounds",
    "SUMMARY_COLUMNS",
    "LINK_COLUMNS",
    "rank",
    "RankResult",
    "LAYER_COLUMNS",
    "prune",
    "PruneResult",
    "default_path",
    "advise",
    "headroom",
    "budget",
    "Budget",
    "available_memory",
    "guard",
]
