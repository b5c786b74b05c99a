"""Power usage effectiveness: facility energy / IT energy, with its source.

When nothing is set the default is 1.0, a machine outside a data centre (the
common case for a laptop or workstation), and the result says so. A cloud zone
(``aws:...``, ``gcp:...``, ``azure:...``) uses its provider's published fleet
figure, but a region in mainland China, run by a local partner, the survey average
below; ``site="unknown-datacenter"`` uses the Uptime Institute survey average.
The estimate (``wattwise.estimate``) reads the same table through ``site_pue``
and ``provider_pue``, so a named site has one PUE everywhere.
"""

from __future__ import annotations

import decimal
import functools
import numbers
import re
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


#: The highest PUE any command, ``track()`` or estimate accepts, and why it sits there.
MAX_PUE = 5.0
MAX_PUE_WHY = (
    "the Uptime Institute's surveys put the industry average near 2.5 in 2007 (their "
    "first) and at 1.56 in 2024, so the worst sites then sat above 3; a PUE above 5 is a "
    "unit or typing mistake"
)


#: Why a PUE below 1 is refused.
MIN_PUE_WHY = "a PUE is a facility's energy over its IT energy: never below 1"


#: Why text that is no plain decimal number ("1.5k", "1,2", "１.５") is refused.
NOT_PLAIN_WHY = "not a plain decimal number such as 1.25, in the digits 0-9"
#: Why NaN, or a value that is no number at all, is refused.
NOT_NUMBER_WHY = "not a number"


def check_pue(pue: Any, typed: str | None = None) -> float:
    """``pue`` as a float if it is a number from 1.0 to ``MAX_PUE``, judged exactly (a
    Decimal or text of 5.0000000000000001 is above the bound, though the float it rounds
    to is not); else the one line every command, ``track()`` and estimate give (they
    each had their own words)."""
    from wattwise._userinput import shown

    number = not isinstance(pue, bool) and isinstance(pue, (numbers.Real, decimal.Decimal))
    try:
        nan = number and bool(pue.is_nan() if isinstance(pue, decimal.Decimal) else pue != pue)
        if number and not nan and 1 <= pue <= MAX_PUE:
            return float(pue)
        below = number and not nan and pue < 1
    except (TypeError, ValueError, ArithmeticError):  # a "number" that does not compare
        number, nan, below = False, True, False  # (numpy's timedelta64): none
    # as typed, else as given: a Decimal, a Fraction, an int or a numpy number as itself
    # (Decimal('1E+999999') is no inf, a long double above 5 no "5.0"), a float with
    # every digit it needs (5.000000000000001)
    got = shown(pue) if typed is None else typed if len(typed) <= 60 \
        else f"{typed[:60]}… ({len(typed)} characters)"  # a 5,000-digit number, cut
    # one line: an object's repr may hold a newline or an ESC
    got = "".join(c if c.isprintable() else repr(c)[1:-1] for c in got)
    why = NOT_NUMBER_WHY if nan or (number is False and not isinstance(pue, str)) \
        else NOT_PLAIN_WHY if not number \
        else MIN_PUE_WHY if below else MAX_PUE_WHY
    raise BadInput(f"pue must be a number from 1.0 to {MAX_PUE:.1f}, got {got} ({why})")


#: A PUE as text: a plain decimal number (digits 0-9, no unit suffix, no "1_0"), or
#: nan/inf, which ``check_pue`` refuses in its own words.
_PLAIN = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?|[+-]?(nan|inf|infinity)",
                    re.IGNORECASE)


_SEPARATORS = {"\x1c", "\x1d", "\x1e", "\x1f"}


def read_pue(value: Any) -> float:
    """A PUE as a command line or a call gives it (a number, or text that is a plain
    number), judged by ``check_pue``: every command reads ``--pue`` so. Text is said as
    typed ("6", not 6.0; "1e999", not inf)."""
    # spaces around it taken off, as float() takes them (no-break ones too), but for the
    # separators \x1c-\x1f, which str.strip() takes and float() refuses
    text = value.strip() if isinstance(value, str) and not _SEPARATORS & set(value) else None
    if text is not None and _PLAIN.fullmatch(text):
        # judged exactly, said as typed (1e999 is no inf)
        return check_pue(decimal.Decimal(text), typed=text)
    return check_pue(value)


@functools.cache
def pue_table() -> dict[str, PUE]:
    out = {}
    for r in read_table("pue.csv"):
        src = r["source"] + (f" ({r['year']})" if r["year"] else "")
        if r["provenance"].startswith(("memory", "from memory")):
            src += ", recited from the published report"
        out[r["site"]] = PUE(float(r["pue"]), src, r["site"])
    return out


def site_pue(site: str) -> PUE:
    """The PUE of a named site (``local``, ``unknown-datacenter``, a cloud provider)."""
    table = pue_table()
    key = site.strip().lower()
    if key not in table:
        from wattwise._userinput import shown

        raise BadInput(f"unknown PUE site {shown(site)}; known: {', '.join(table)}")
    return table[key]


def provider_pue(zone: str | None) -> PUE | None:
    """The fleet PUE of the cloud provider a zone names (``aws:us-east-1``), else None."""
    if not zone or ":" not in zone:
        return None
    return pue_table().get(zone.split(":", 1)[0].strip().lower())


def resolve_pue(
    pue: float | None = None, *, site: str | None = None, zone: str | None = None
) -> PUE:
    """Explicit value > named site > the cloud provider of ``zone`` > 1.0 (local)."""
    if pue is not None:
        return PUE(read_pue(pue), "set by the user", site or "user")
    if site is not None:
        return site_pue(site)
    provider = provider_pue(zone)
    partner = None if provider is None else partner_operated(zone)
    if partner is not None:  # a data centre of unknown PUE: the industry average's
        average = pue_table()["unknown-datacenter"]
        return PUE(average.pue, f"zone {zone} is run by {partner}, not by the brand's own "
                   f"fleet, whose PUE is not used: a data centre, at the industry average "
                   f"({average.source})", average.site)
    if provider is not None:
        return provider
    default = pue_table()["local"]
    return PUE(
        default.pue,
        "default 1.0: local machine, no data-centre overhead "
        "(set pue=..., or site='unknown-datacenter' for the 1.56 industry average)",
        "local",
    )


def partner_operated(zone: str | None) -> str | None:
    """Who runs a cloud region in mainland China for its brand (None elsewhere).

    Azure's China regions are operated by 21Vianet and AWS's by Sinnet (Beijing)
    and NWCD (Ningxia); the brands' published fleet PUEs cover their own data
    centres, not these.
    """
    if not zone or ":" not in zone:
        return None
    try:
        from wattwise.carbon.zones import get_zone

        z = get_zone(zone)
    except (BadInput, ImportError):
        return None
    parent = z.parent or ""
    if z.kind != "cloud" or not (parent == "CN" or parent.startswith("CN-")):
        return None
    return {"azure": "21Vianet", "aws": "a local partner (Sinnet, NWCD)"}.get(
        z.name.split(":", 1)[0], "a local operator"
    )


def unless_zones_own(pue: float | None, zone: str | None, source: Any = None) -> float | None:
    """``pue``, or None where it is the PUE ``zone`` resolves to anyway (its cloud
    provider's, or 1 for a local machine) and its stored ``source`` does not say the user
    set it: a stored PUE taken for a run whose options are not recorded is then resolved
    again with its source (AWS's page), where as a value it read "set by the user" in
    ``report`` beside ``show``'s source."""
    if pue is None or (isinstance(source, str) and source.startswith("set by the user")):
        return pue
    own = zones_own(zone)
    return None if own is not None and pue == own else pue


def zones_own(zone: str | None) -> float | None:
    """The PUE ``zone`` (any spelling ``--zone`` takes) resolves to with none given: its
    cloud provider's, or 1 for a local machine; None where it names no zone."""
    from wattwise.carbon.zones import resolve_zone
    from wattwise.errors import WattwiseError

    try:
        place = resolve_zone(zone).zone
        return resolve_pue(None, zone=place.name if place else None).pue
    except (WattwiseError, ValueError, TypeError, KeyError):
        return None


def stored_source(summary: Any) -> str:
    """What ``show`` says of a stored emissions block's PUE source: the stored text; where
    none is stored, "set by the user" where the run's recorded options hold that PUE (as
    ``report`` reads them), else "source not recorded"; a source that is not text is a
    damaged record, said (one stored as 7 was printed "PUE 1.15: 7")."""
    from wattwise._finite import finite_float

    em = summary.get("emissions") if isinstance(summary, dict) else None
    em = em if isinstance(em, dict) else {}
    source = em.get("pue_source")
    if isinstance(source, str) and source:
        return source
    if source is not None and source != "":
        return f"source not usable: not text (stored as {source!r}): a damaged record"
    options = summary.get("carbon_options") if isinstance(summary, dict) else None
    chosen = finite_float(options.get("pue")) if isinstance(options, dict) else None
    if chosen is not None and chosen == finite_float(em.get("pue")):
        return "set by the user"
    return "source not recorded"
