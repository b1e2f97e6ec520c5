"""Every built-in transport, registered: import :data:`TRANSPORTS` from here to find them.

:mod:`.transport` holds the registry; :mod:`.tcp` and :mod:`.udp` add themselves to it
when imported, which this module does.
"""

from __future__ import annotations

from . import tcp, udp
from .congestion import CONGESTION_CONTROLS
from .transport import TRANSPORTS, make_transport

__all__ = ["TRANSPORTS", "CONGESTION_CONTROLS", "make_transport", "tcp", "udp"]
