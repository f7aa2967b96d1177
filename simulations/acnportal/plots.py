#!/usr/bin/env python3
"""Plots of the ACN-Data replay, drawn from `chargegrid simulate replay --json` runs.

    target/py-acn/bin/python simulations/acnportal/plots.py --binary target/release/chargegrid

writes into docs/benchmarks/:
  * replay_limit_caltech-2019-05.svg, replay_limit_jpl-2019-09.svg: delivered energy (% of
    the demand) against the site limit (% of the file's uncontrolled peak) for chargegrid,
    LLF, EDF, round-robin and the offline optimum, each whole file;
  * replay_power_day.svg: site power over the busiest weekday of caltech 2019-09 (most energy
    demanded by sessions arriving that local day) for chargegrid, LLF and uncontrolled, at the
    file's 30 % limit, with the limit drawn.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
from crosscheck import (  # noqa: E402
    DATA,
    DEFAULT_BINARY,
    REPO,
    TZ,
    limit_for,
    read_sessions,
    run_chargegrid,
    uncontrolled_peak_kw,
)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",  # text as text, no embedded glyph paths
        "svg.hashsalt": "chargegrid",  # stable ids, so re-runs give the same file
        "font.size": 9,
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],  # short font lists in the SVG
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)
SVG_META = {"Date": None, "Creator": None}

SHARES = [0.20, 0.25, 0.30, 0.35, 0.40, 0.50, 0.60, 0.80, 1.00]
LIMIT_FILES = {
    "caltech-2019-05": "caltech-2019-05-01_2019-08-31.csv.gz",
    "jpl-2019-09": "jpl-2019-09-01_2019-12-31.csv.gz",
}
POWER_FILE = "caltech-2019-09-01_2019-12-31.csv.gz"
STYLE = {
    "chargegrid": dict(color="#1f77b4", lw=2.2, marker="o", ms=3.5, zorder=4),
    "llf": dict(color="#d62728", lw=1.1, ls="--", marker="s", ms=3, zorder=5),
    "edf": dict(color="#ff7f0e", lw=1.2, ls="-.", marker="^", ms=3),
    "round-robin": dict(color="#2ca02c", lw=1.2, ls=":", marker="v", ms=3),
    "offline-optimal": dict(color="black", lw=0.8, ls="-", marker="", zorder=3),
    "uncontrolled": dict(color="#7f7f7f", lw=1.0, ls="-"),
}
LABEL = {
    "chargegrid": "chargegrid",
    "llf": "LLF",
    "edf": "EDF",
    "round-robin": "round-robin",
    "offline-optimal": "offline optimum",
    "uncontrolled": "uncontrolled (ignores the limit)",
}


PREVIEW: Path | None = None


def save(fig, out: Path) -> None:
    fig.tight_layout()
    fig.savefig(out, format="svg", metadata=SVG_META)
    if PREVIEW is not None:
        fig.savefig(PREVIEW / (out.stem + ".png"), format="png", dpi=110)
    plt.close(fig)


def limit_sweep(binary: str, name: str, file: str, out: Path) -> None:
    path = DATA / file
    peak = uncontrolled_peak_kw(binary, path)
    algos = ["chargegrid", "llf", "edf", "round-robin", "offline-optimal"]
    curves = defaultdict(list)
    xs = []
    for share in SHARES:
        limit = limit_for(peak, share)
        reports = run_chargegrid(binary, path, limit, algos)
        xs.append(100.0 * limit / peak)
        for a in algos:
            curves[a].append(reports[a]["delivered_pct"])
        print(
            f"{name} {limit:6.1f} kW ({share:.0%}): "
            + ", ".join(f"{a} {curves[a][-1]:.2f}" for a in algos),
            flush=True,
        )
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    for a in ["offline-optimal", "round-robin", "edf", "llf", "chargegrid"]:
        ax.plot(xs, curves[a], label=LABEL[a], **STYLE[a])
    ax.set_xlabel(f"site limit, % of the uncontrolled peak ({peak:.1f} kW = 100 %)")
    ax.set_ylabel("energy delivered, % of demand")
    ax.set_title(f"{name}: whole file, 5-min steps, 6.6 kW EVSEs, 6 A floor", fontsize=9)
    ax.set_xticks([round(x) for x in xs])
    ax.grid(True, lw=0.3, alpha=0.6)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(LABEL[a]) for a in algos]
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower right")
    save(fig, out)


def busiest_weekday(file: str):
    """The weekday whose arriving sessions demand the most energy (site-local days)."""
    energy = defaultdict(float)
    count = defaultdict(int)
    for s in read_sessions(DATA / file):
        day = s.arrival.astimezone(TZ).date()
        if day.weekday() < 5:
            energy[day] += s.delivered_kwh
            count[day] += 1
    day = max(energy, key=lambda d: (energy[d], -d.toordinal()))
    return day, count[day], energy[day]


def power_day(binary: str, out: Path) -> None:
    path = DATA / POWER_FILE
    day, n, kwh = busiest_weekday(POWER_FILE)
    peak = uncontrolled_peak_kw(binary, path)
    limit = limit_for(peak, 0.3)
    algos = ["uncontrolled", "llf", "chargegrid"]
    reports = run_chargegrid(binary, path, limit, algos, day, 1, record_power=True)
    print(
        f"power day {day}: {n} sessions, {kwh:.0f} kWh demanded, limit {limit} kW; "
        + ", ".join(
            f"{a} {reports[a]['delivered_pct']:.2f} % peak {reports[a]['peak_kw']:.1f} kW"
            for a in algos
        ),
        flush=True,
    )
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    busy = []
    for a in algos:
        r = reports[a]
        t0 = datetime.fromisoformat(r["window_start"].replace("Z", "+00:00"))
        step = timedelta(seconds=r["options"]["step"])
        power = r["site_power_kw"]
        # Each value holds for its whole step: draw steps, ending at the last step's end.
        ts = [(t0 + step * k).astimezone(TZ) for k in range(len(power) + 1)]
        busy += [ts[k] for k, p in enumerate(power) if p > 0] + [
            ts[k + 1] for k, p in enumerate(power) if p > 0
        ]
        style = dict(STYLE[a])
        style.pop("marker", None)
        style.pop("ms", None)
        ax.step(
            ts,
            power + power[-1:],
            where="post",
            label=f"{LABEL[a]}: {r['delivered_pct']:.2f} % delivered",
            **style,
        )
    ax.axhline(limit, color="black", lw=0.8, ls=(0, (4, 2)))
    ax.annotate(
        f"site limit {limit:.1f} kW\n(30 % of the file's\nuncontrolled peak)",
        (0.995, limit),
        xycoords=("axes fraction", "data"),
        xytext=(0, 3),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=8,
    )
    # Show the hours with charging, an hour either side (the window runs to the last
    # departure, which may be long after the last EV is full).
    ax.set_xlim(min(busy) - timedelta(hours=1), max(busy) + timedelta(hours=1))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=TZ))
    ax.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, 2), tz=TZ))
    ax.set_xlabel(f"local time (America/Los_Angeles), {day:%a %d %b %Y}")
    ax.set_ylabel("site power, kW")
    ax.set_title(
        f"caltech, busiest weekday of Sep–Dec 2019: {n} sessions, {kwh:.0f} kWh demanded",
        fontsize=9,
    )
    ax.set_ylim(bottom=0)
    ax.grid(True, lw=0.3, alpha=0.6)
    ax.legend(loc="upper right", fontsize=8)
    save(fig, out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default=DEFAULT_BINARY, help="chargegrid release binary")
    p.add_argument("--out-dir", type=Path, default=REPO / "docs" / "benchmarks")
    p.add_argument("--only", choices=["limit", "power"], help="draw one kind only")
    p.add_argument("--preview-dir", type=Path, help="also write PNG copies here (to look at)")
    args = p.parse_args(argv)
    global PREVIEW
    PREVIEW = args.preview_dir
    if PREVIEW is not None:
        PREVIEW.mkdir(parents=True, exist_ok=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.only in (None, "limit"):
        for name, file in LIMIT_FILES.items():
            limit_sweep(args.binary, name, file, args.out_dir / f"replay_limit_{name}.svg")
    if args.only in (None, "power"):
        power_day(args.binary, args.out_dir / "replay_power_day.svg")
    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
