"""The domains a run's stored sensors list, read defensively: another program's record
or a damaged one may hold a sensor, or its ``domains``, as anything."""

from __future__ import annotations

from typing import Any


def sensor_domains(sensors: Any) -> list[dict[str, Any]]:
    """The domain entries of a run's stored sensors (each sensor's ``domains`` list), only
    those that are objects: a sensor or a ``domains`` that is no object or list (a damaged
    record) gives none, where iterating it raised a traceback."""
    out: list[dict[str, Any]] = []
    for s in sensors if isinstance(sensors, list) else []:
        listed = s.get("domains") if isinstance(s, dict) else None
        out += [d for d in listed if isinstance(d, dict)] if isinstance(listed, list) else []
    return out


def counted_in_total(sensors: Any) -> set[str]:
    """The names of the stored sensors' domains that count in the run's total."""
    return {d["name"] for d in sensor_domains(sensors)
            if isinstance(d.get("name"), str) and d.get("in_total", True)}
