"""Interactive HTML reports (plotly): each one self-contained file that opens offline.

One module per figure family: :mod:`.page` (the page, tables, colours every report
shares), :mod:`.simulation`, :mod:`.sweep`, :mod:`.explore` and :mod:`.rank`.
"""

from .explore import explore_report
from .page import PALETTE, figure_html, page, table_html
from .rank import rank_report
from .simulation import simulation_report
from .sweep import sweep_report

__all__ = [
    "page",
    "figure_html",
    "table_html",
    "simulation_report",
    "sweep_report",
    "explore_report",
    "rank_report",
    "PALETTE",
]
