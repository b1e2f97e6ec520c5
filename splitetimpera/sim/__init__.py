"""The discrete-event co-simulation (SimPy): one entity per module, plain parameters only.

``workload`` makes frames, ``device`` runs heads, ``channel`` carries packets over a link,
``transport`` finds protocols by name (``tcp`` with the controls of ``congestion``, and
``udp``, registered by importing ``protocols``), ``server`` runs tails, ``fast`` draws transfers from measured distributions, and
``run`` builds, connects, runs and collects one configuration from the plain
parameters of ``params``. Nothing here imports torch,
the scenario format, the models or the interpretability code.
"""

__all__ = [
    "workload",
    "device",
    "channel",
    "congestion",
    "tcp",
    "udp",
    "transport",
    "protocols",
    "transfer",
    "fast",
    "server",
    "params",
    "run",
]
