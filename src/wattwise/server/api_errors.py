"""The dashboard API's refusals: one documented body, and one line for a refused value."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

#: The compare page's question: 1 to 50 run ids, comma-separated.
COMPARE_IDS = r"^-?[0-9]{1,18}(,-?[0-9]{1,18}){0,49}$"  # below 1: another program's re-key


def _at_most(bound: str) -> str:
    """A regular expression of the digit strings of ``bound``'s length up to ``bound``."""
    parts = [bound]
    for i, digit in enumerate(bound):
        if digit != "0":
            rest = len(bound) - i - 1
            parts.append(f"{bound[:i]}[0-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join(parts)


#: One run id as the pages write it, one SQLite stores (-2^63 to 2^63 - 1): digits after an
#: optional minus (an int parameter took "8_0" as 80, and "+4", " 8" and "1.0" as ids too).
RUN_ID = (f"^(?:0*(?:[0-9]{{1,18}}|{_at_most(str(2**63 - 1))})"
          f"|-0*(?:[0-9]{{1,18}}|{_at_most(str(2**63))}))$")


class ErrorBody(BaseModel):
    """Every refusal and error of the dashboard: one line that says what is wrong."""

    error: str


def error_doc(description: str) -> dict[str, Any]:
    """A route's documented answer of one error line, for OpenAPI."""
    return {"model": ErrorBody, "description": description}


#: A path or query value the route's declaration refuses: documented on every route with
#: parameters, in place of FastAPI's own ``{"detail": [...]}`` (which the app never sends).
INVALID: dict[int | str, dict[str, Any]] = {
    422: error_doc("a path or query value is not valid; the error names it")}


#: What each pattern a parameter must match means, in words, for the error line.
PATTERN_WORDS = {COMPARE_IDS: "run ids: 1 to 50 whole numbers separated by commas",
                 RUN_ID: "a run id: digits, after a minus sign for one below 0, from "
                 "-2^63 to 2^63 - 1 (the ids SQLite stores)"}


def invalid_line(exc: RequestValidationError) -> str:
    """One line for a refused request: each parameter, what was wrong, what was given."""
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(x) for x in err.get("loc", ())]
        where = f"{loc[0]} parameter {'.'.join(loc[1:])}" if len(loc) > 1 else ".".join(loc)
        msg = str(err.get("msg", "not valid"))
        if err.get("type") == "string_pattern_mismatch":  # say what it must be, not a regex
            pattern = (err.get("ctx") or {}).get("pattern")
            msg = f"should be {PATTERN_WORDS.get(str(pattern), 'as the API documents it')}"
        given = err.get("input")
        got = "" if given is None else f" (got {str(given)[:60]!r})"
        parts.append(f"{where or 'request'}: {msg[:1].lower()}{msg[1:]}{got}")
    return "; ".join(parts) or "the request is not valid"
