"""Forecast error on the shipped 2020 traces (DE, GB, FR), as a markdown table.

Every forecaster is refitted at each origin (every 6 h from 2020-01-01T00:00Z;
the last origin leaves room for the 48 h horizon inside 2020 + 2 days) on
data before the origin only, and scored on the mean intensity of the hour
``h`` hours ahead: MAE in gCO2eq/kWh and MAPE in %.

    .venv/bin/python benchmarks/bench_forecast.py [--every-h 6]
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import datetime, timezone

from wattwise.carbon.forecast import (
    Forecaster,
    PersistenceForecaster,
    SeasonalForecaster,
    evaluate,
)
from wattwise.carbon.traces import TraceSource

ZONES = ("DE", "GB", "FR")
HORIZONS_H = (1, 8, 24, 48)
START = datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()
END = datetime(2021, 1, 1, tzinfo=timezone.utc).timestamp() + 2 * 86400.0


def forecasters() -> list[Forecaster]:
    return [PersistenceForecaster("last"), PersistenceForecaster("yesterday"),
            SeasonalForecaster()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every-h", type=float, default=6.0, help="hours between origins")
    args = parser.parse_args()
    head = " | ".join(f"{h} h MAE | {h} h MAPE" for h in HORIZONS_H)
    print(f"| zone | forecaster | origins | {head} | eval s |")
    print("|---" * (4 + 2 * len(HORIZONS_H)) + "|")
    for zone in ZONES:
        series = TraceSource.for_zone(zone).full_series
        for f in forecasters():
            t = time.perf_counter()
            rows = evaluate(f, series, HORIZONS_H, origin_every_h=args.every_h,
                            start_unix_s=START, end_unix_s=END)
            elapsed = time.perf_counter() - t
            cells = " | ".join(f"{r.mae_g_per_kwh:.1f} | {r.mape_pct:.1f} %" for r in rows)
            print(f"| {zone} | {f.name} | {rows[0].n_origins} | {cells} | {elapsed:.2f} |")
    print()
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
