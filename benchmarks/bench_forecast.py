"""Forecast error on the shipped 2020 traces (DE, GB, FR), as markdown tables.

Every forecaster is refitted at each origin (every 6 h from 2020-01-01T00:00Z;
the last origin leaves room for the 48 h horizon inside 2020 + 2 days) on
data before the origin only, and scored on the mean intensity of the hour
``h`` hours ahead: MAE in gCO2eq/kWh and MAPE in %. A second table scores the
ensemble's quantile forecasts (its own past errors at the same time of day,
``ForecastReplay.quantiles``): how often the hour's actual values fell inside the
10-90 % band, and how wide the band was.

    .venv/bin/python benchmarks/bench_forecast.py [--every-h 6] [--zones DE,GB,FR]
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import datetime, timezone

import numpy as np

from wattwise.carbon.forecast import FORECASTER_NAMES, HOUR_S, evaluate, make_forecaster
from wattwise.carbon.forecast_replay import ForecastReplay
from wattwise.carbon.traces import TraceSource

ZONES = ("DE", "GB", "FR")
HORIZONS_H = (1, 8, 24, 48)
START = datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()
END = datetime(2021, 1, 1, tzinfo=timezone.utc).timestamp() + 2 * 86400.0
ORDER = ("persistence-last", "persistence-yesterday", "seasonal", "linear", "analog", "gbt",
         "ensemble")


def accuracy(zones: list[str], every_h: float, names: tuple[str, ...] = ORDER) -> None:
    head = " | ".join(f"{h} h MAE | {h} h MAPE" for h in HORIZONS_H)
    print(f"| zone | forecaster | origins | {head} | eval s |")
    print("|---" * (4 + 2 * len(HORIZONS_H)) + "|")
    for zone in zones:
        series = TraceSource.for_zone(zone).full_series
        for name in names:
            assert name in FORECASTER_NAMES
            f = make_forecaster(name)
            t = time.perf_counter()
            rows = evaluate(f, series, HORIZONS_H, origin_every_h=every_h,
                            start_unix_s=START, end_unix_s=END)
            elapsed = time.perf_counter() - t
            cells = " | ".join(f"{r.mae_g_per_kwh:.1f} | {r.mape_pct:.1f} %" for r in rows)
            print(f"| {zone} | {f.name} | {rows[0].n_origins} | {cells} | {elapsed:.1f} |",
                  flush=True)


def bands(zones: list[str], every_h: float) -> None:
    print("| zone | horizon | hours inside the 10-90 % band | mean band width g/kWh |")
    print("|---|---|---|---|")
    for zone in zones:
        series = TraceSource.for_zone(zone).full_series
        rep = ForecastReplay(make_forecaster("ensemble"), series)
        per_hour = int(HOUR_S // series.step_s)
        n = 48 * per_hour
        origins = START + every_h * HOUR_S * np.arange(int((END - START - 48 * HOUR_S)
                                                            // (every_h * HOUR_S)) + 1)
        hits: dict[int, list[float]] = {8: [], 24: []}
        width: dict[int, list[float]] = {8: [], 24: []}
        for o in origins.tolist():
            q = rep.quantiles(o, n, (0.1, 0.9))
            if q is None:
                continue
            actual = rep.actual(o, n)
            for h in hits:
                sl = slice((h - 1) * per_hour, h * per_hour)
                inside = (actual[sl] >= q[0, sl]) & (actual[sl] <= q[1, sl])
                hits[h].append(float(np.mean(inside)))
                width[h].append(float(np.mean(q[1, sl] - q[0, sl])))
        for h in hits:
            print(f"| {zone} | {h} h | {100 * np.mean(hits[h]):.0f} % | "
                  f"{np.mean(width[h]):.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every-h", type=float, default=6.0, help="hours between origins")
    parser.add_argument("--zones", default=",".join(ZONES))
    parser.add_argument("--forecasters", default=",".join(ORDER))
    parser.add_argument("--no-bands", action="store_true", help="skip the quantile table")
    args = parser.parse_args()
    zones = [z.strip() for z in args.zones.split(",") if z.strip()]
    names = tuple(n.strip() for n in args.forecasters.split(",") if n.strip())
    t0 = time.perf_counter()
    accuracy(zones, args.every_h, names)
    if not args.no_bands:
        print()
        bands(zones, args.every_h)
    print()
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
