"""What a run reference a user gives says: an id, ``latest``/``last``, a name, or
``name:NAME`` (a name only, so a run named ``latest`` or ``7`` can be found). Read apart
from the lookup so that every command and the dashboard read a reference alike."""

from __future__ import annotations

from dataclasses import dataclass

from wattwise.errors import BadInput
from wattwise.records import rows as _rows


@dataclass(frozen=True)
class RunRef:
    """A reference read: ``text`` stripped (and without ``name:``), ``names`` the names to
    try in order (as given, spaces kept, then stripped: a run may be named " pad ", and a
    pasted " a b " should find "a b"), ``by_name`` whether it is a name only, ``run_id``
    the id it gives (None: not an id, or beyond SQLite's integers)."""

    text: str
    names: tuple[str, ...]
    by_name: bool
    run_id: int | None

    @property
    def latest(self) -> bool:
        return not self.by_name and self.text.lower() in ("latest", "last")


def read_ref(ref: object) -> RunRef:
    """``ref`` read as a run reference; BadInput for what is not one (not text or an
    integer, or blank). Text that is not valid (an undecodable byte of a command line,
    kept by Python as a lone surrogate) is read as it would have been stored (its
    ``\\udcff`` escape), never an encoding error."""
    if isinstance(ref, bool) or not isinstance(ref, (str, int)):
        raise BadInput(f"run reference must be an id or a name, got {ref!r}")
    text = str(ref).strip()
    by_name = isinstance(ref, str) and text.startswith("name:")
    given = str(ref).lstrip()[len("name:"):] if by_name else str(ref)
    if by_name:
        text = text[len("name:"):].strip()  # "name: a b" finds "a b" as " a b " does
        if not text:
            raise BadInput("the run reference is blank: give a name after 'name:'")
    elif not text:
        raise BadInput("the run reference is blank: give an id, a name or 'latest'")
    text = _rows.text(text)
    names = tuple(dict.fromkeys((_rows.text(given), text))) if isinstance(ref, str) else ()
    digits = text[1:] if text.startswith("-") else text  # another program's id <= 0
    run_id = None
    if not by_name and digits.isascii() and digits.isdigit() and len(digits) <= 19 \
            and -2**63 <= int(text) < 2**63:
        run_id = int(text)
    return RunRef(text, names, by_name, run_id)
