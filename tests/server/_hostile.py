"""A run database whose every stored text is a markup or script payload.

Each payload names its field (``[name]``, ``[window.kind]``...) so a failure says
where it came from. Run, the page would set ``document.title`` to ``PWNED``.
"""

from __future__ import annotations

from pathlib import Path

from wattwise.records.store import SampleRow, Store

PWNED = "PWNED"


def payload(field: str) -> str:
    """Markup, a script-element breakout, an HTML comment opener and JS line breaks."""
    return (
        f"[{field}]</script><!--<script>document.title='{PWNED}'</script>"
        f"<img src=x onerror=\"document.title='{PWNED}'\">"
        f"\"><svg onload=document.title='{PWNED}'>'`${{document.title='{PWNED}'}}"
        "\u2028\u2029&amp;&lt;b&gt;"
    )


#: Every field written below, by the name its payload carries.
FIELDS = [
    "name", "host.hostname", "host.os", "hardware.cpu", "sensor.name", "sensor.domain",
    "sensor.kind", "sensor.source", "versions", "command.0", "command.1", "tag.key",
    "tag.value", "window.name", "window.kind", "window.extra", "event.level", "event.message",
    "sample.domain", "summary.kind", "summary.domain", "summary.domain.kind",
    "summary.domain.source", "summary.note", "summary.energy_j", "summary.low_j",
    "summary.high_j", "summary.domain.energy_j", "summary.domain.avg_power_w",
    "emissions.zone", "emissions.source", "emissions.pue", "emissions.emissions_g",
    "emissions.avg_intensity_g_per_kwh",
]


def hostile_db(path: Path) -> int:
    """Write one finished run with a payload in every stored text field; its id."""
    p = payload
    domain = p("sensor.domain")
    with Store(path) as store:
        rid = store.create_run(
            name=p("name"),
            started_unix_s=1000.0,
            host={"hostname": p("host.hostname"), "os": p("host.os")},
            hardware={"cpu": p("hardware.cpu")},
            sensors=[{
                "name": p("sensor.name"),
                "domains": [{"name": domain, "kind": p("sensor.kind"),
                             "source": p("sensor.source"), "in_total": True}],
            }],
            versions={"wattwise": p("versions")},
            command=[p("command.0"), p("command.1")],
            tags={p("tag.key"): p("tag.value")},
        )
        store.add_samples(rid, [
            SampleRow(1001.0, domain, 10.0, 10.0, 9.0, 11.0),
            SampleRow(1002.0, p("sample.domain"), 5.0, 5.0, 5.0, 5.0),
        ])
        store.add_window(rid, {
            "name": p("window.name"), "start_unix_s": 1000.0, "end_unix_s": 1002.0,
            "energy_j": 15.0, "kind": p("window.kind"), "note": p("window.extra"),
        })
        store.add_event(rid, 1001.5, p("event.level"), p("event.message"))
        store.finish_run(rid, ended_unix_s=1002.0, status="finished", summary={
            "energy_j": p("summary.energy_j"),
            "low_j": p("summary.low_j"),
            "high_j": p("summary.high_j"),
            "kind": p("summary.kind"),
            "domains": [{
                "domain": p("summary.domain"), "kind": p("summary.domain.kind"),
                "source": p("summary.domain.source"), "energy_j": p("summary.domain.energy_j"),
                "low_j": 1.0, "high_j": 2.0, "avg_power_w": p("summary.domain.avg_power_w"),
                "in_total": True,
            }],
            "notes": [p("summary.note")],
            "emissions": {
                "zone": p("emissions.zone"), "source": p("emissions.source"),
                "pue": p("emissions.pue"), "emissions_g": p("emissions.emissions_g"),
                "avg_intensity_g_per_kwh": p("emissions.avg_intensity_g_per_kwh"),
            },
        })
    return rid
