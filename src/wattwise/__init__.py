"""wattwise: measure, predict and cut the energy and carbon of AI workloads.

``import wattwise`` does no work: sensors are probed when a meter starts.
"""

from __future__ import annotations

__version__ = "0.1.0"
