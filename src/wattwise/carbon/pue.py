"""Power usage effectiveness: facility energy / IT energy, with its source.

When nothing is set the default is 1.0, a machine outside a data centre (the
common case for a laptop or workstation), and the result says so. A cloud zone
(``aws:...``, ``gcp:...``, ``azure:...``) uses its provider's published fleet
figure; ``site="unknown-datacenter"`` uses the Uptime Institute survey average.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from wattwise.carbon._data import read_table
from wattwise.errors import BadInput


@dataclass(frozen=True)
class PUE:
    """A PUE value and where it came from."""

    pue: float
    source: str
    site: str

    def to_dict(self) -> dict[str, Any]:
        return {"pue": self.pue, "pue_source": self.source, "pue_site": self.site}


@functools.cache
def pue_table() -> dict[str, PUE]:
    out = {}
    for r in read_table("pue.csv"):
        src = r["source"] + (f" ({r['year']})" if r["year"] else "")
        if r["provenance"].startswith(("memory", "from memory")):
            src += ", recited from the published report"
        out[r["site"]] = PUE(float(r["pue"]), src, r["site"])
    return out


def resolve_pue(
    pue: float | None = None, *, site: str | None = None, zone: str | None = None
) -> PUE:
    """Explicit value > named site > the cloud provider of ``zone`` > 1.0 (local)."""
    table = pue_table()
    if pue is not None:
        if not 1.0 <= pue <= 5.0:
            raise BadInput(f"PUE must be between 1.0 and 5.0, got {pue}")
        return PUE(float(pue), "set by the user", site or "user")
    if site is not None:
        key = site.strip().lower()
        if key not in table:
            raise BadInput(f"unknown PUE site {site!r}; known: {', '.join(table)}")
        return table[key]
    if zone and ":" in zone:
        provider = zone.split(":", 1)[0].strip().lower()
        if provider in table:
            return table[provider]
    default = table["local"]
    return PUE(
        default.pue,
        "default 1.0: local machine, no data-centre overhead "
        "(set pue=..., or site='unknown-datacenter' for the 1.56 industry average)",
        "local",
    )
