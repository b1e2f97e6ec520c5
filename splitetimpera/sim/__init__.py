"""The discrete-event co-simulation (SimPy): one entity per module, no torch imports.

``workload`` makes frames, ``device`` runs heads, ``channel`` carries packets over a link,
``tcp`` and ``udp`` are the transports, ``server`` runs tails, and ``engine`` builds,
connects, runs and collects one simulation per configuration.
"""

__all__ = ["workload", "device", "channel", "tcp", "udp", "server", "engine"]
