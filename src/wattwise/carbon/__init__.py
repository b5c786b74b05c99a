"""Carbon accounting: grid zones, intensity sources, emissions over time, PUE, SCI.

Import is cheap: data tables are read the first time a function needs them.
"""

from __future__ import annotations
