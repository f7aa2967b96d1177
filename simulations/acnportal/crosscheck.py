#!/usr/bin/env python3
"""Cross-check chargegrid's replay baselines against acnportal's own algorithms.

Loads the same ACN-Data sessions as `chargegrid simulate replay` (same window, same step grid,
same energy need), simulates them in acnportal (acnsim) with UncontrolledCharging, RoundRobin,
EDF and LLF, runs the chargegrid binary on the same file, window and limit, and prints (and
writes) a markdown table of delivered energy in % of the demand.

    target/py-acn/bin/python simulations/acnportal/crosscheck.py \
        --binary target/release/chargegrid --out simulations/acnportal/results.md

The replay model (scheduler/src/replay/site_model.rs, simulate.rs), reproduced here:
  * window: from local midnight (America/Los_Angeles) of --from, or of the first arrival's
    day, for --days days (or to the end of the file); a session belongs to the window when it
    arrives in it;
  * 5-minute steps; arrival rounded up and departure rounded down to a step (whole seconds,
    as chrono's num_seconds); a session charges in steps [arrive, leave);
  * need = delivered energy of the CSV (or requested with --demand requested);
  * EVSE and vehicle top rate 6.6 kW at 208 V (31.73 A), site limit kW -> A at 208 V;
  * a vehicle draws min(pilot, top rate, what finishes it) — acnportal's ideal `Battery`
    with capacity = need and init_charge = 0 does exactly that.

acnportal's EVSE here is its default continuous `EVSE` (0 .. 31.73 A, no 6 A floor);
chargegrid keeps a 6 A floor (a session gets 0 or >= 6 A). See README.md for what that and
the other differences do to the figures.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("ACN_DATA", Path(__file__).resolve().parents[2] / "data" / "acn-sessions"))
DEFAULT_BINARY = os.environ.get("CHARGEGRID_BIN", str(REPO / "target" / "release" / "chargegrid"))
TZ = ZoneInfo("America/Los_Angeles")
VOLTAGE = 208.0
EVSE_MAX_KW = 6.6
STEP = timedelta(minutes=5)

# chargegrid's algorithm name -> label, in table order.
BASELINES = ["uncontrolled", "round-robin", "edf", "llf"]
REFERENCES = ["chargegrid", "offline-optimal"]


# --------------------------------------------------------------------------- sessions


@dataclass
class Session:
    session_id: str
    station_id: str
    arrival: datetime  # UTC
    departure: datetime  # UTC
    estimated_departure: datetime | None
    requested_kwh: float
    delivered_kwh: float


@dataclass
class GridSession:
    session_id: str
    station_id: str
    arrive: int  # first step plugged in
    leave: int  # first step gone
    need_kwh: float
    told_departure_steps: float  # the departure the scheduler is told, in (fractional) steps


@dataclass
class Grid:
    start: datetime
    step: timedelta
    steps: int
    sessions: list[GridSession] = field(default_factory=list)

    @property
    def demanded_kwh(self) -> float:
        return sum(s.need_kwh for s in self.sessions)


def _time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


def read_sessions(path: Path) -> list[Session]:
    """Reads an ACN-Data .csv.gz, sorted by arrival (as acn_csv.rs)."""
    out = []
    with gzip.open(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            row = {k.strip(): v for k, v in row.items()}
            out.append(
                Session(
                    session_id=row["session_id"].strip(),
                    station_id=row["station_id"].strip(),
                    arrival=_time(row["arrival"]),
                    departure=_time(row["departure"]),
                    estimated_departure=_time(row["estimated_departure"]),
                    requested_kwh=float(row["requested_energy (kWh)"]),
                    delivered_kwh=float(row["delivered_energy (kWh)"]),
                )
            )
    out.sort(key=lambda s: s.arrival)  # stable, like Rust's sort_by_key
    return out


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(timezone.utc)


def build_grid(
    sessions: list[Session],
    start_day: date | None = None,
    days: int | None = None,
    demand: str = "delivered",
    departure: str = "actual",
    step: timedelta = STEP,
) -> Grid:
    """The replay window and step grid, as scheduler/src/replay/site_model.rs builds it."""
    if start_day is None:
        start_day = min(s.arrival for s in sessions).astimezone(TZ).date()
    start = local_midnight(start_day)
    end = start + timedelta(days=days) if days is not None else None
    step_s = int(step.total_seconds())

    def to_step(t: datetime, up: bool) -> int:
        secs = max(0, (t - start) // timedelta(seconds=1))
        return -(-secs // step_s) if up else secs // step_s

    out = []
    for i, s in enumerate(sessions):
        if s.arrival < start or (end is not None and s.arrival >= end):
            continue
        told = s.departure
        if departure == "estimated" and s.estimated_departure is not None:
            told = s.estimated_departure
        out.append(
            (
                to_step(s.arrival, True),
                i,
                GridSession(
                    session_id=s.session_id,
                    station_id=s.station_id,
                    arrive=to_step(s.arrival, True),
                    leave=to_step(s.departure, False),
                    need_kwh=s.delivered_kwh if demand == "delivered" else s.requested_kwh,
                    told_departure_steps=(told - start).total_seconds() / step_s,
                ),
            )
        )
    if not out:
        raise SystemExit(f"no session arrives in the window starting {start}")
    out.sort(key=lambda t: (t[0], t[1]))
    grid_sessions = [g for _, _, g in out]
    return Grid(
        start=start,
        step=step,
        steps=max(g.leave for g in grid_sessions),
        sessions=grid_sessions,
    )


def assign_slots(grid: Grid) -> dict[str, str]:
    """Session id -> acnportal station id. acnportal refuses a plug-in at an occupied EVSE,
    while chargegrid does not care which station a session used; a session whose station is
    still occupied on the step grid gets a spare EVSE (`<station>~k`)."""
    busy_until: dict[str, int] = {}
    slot = {}
    for s in sorted(grid.sessions, key=lambda s: (s.arrive, s.leave)):
        if s.leave <= s.arrive:
            continue
        name, k = s.station_id, 0
        while busy_until.get(name, -1) > s.arrive:
            k += 1
            name = f"{s.station_id}~{k}"
        busy_until[name] = s.leave
        slot[s.session_id] = name
    return slot


# --------------------------------------------------------------------------- acnportal


def acnportal_algorithm(name: str):
    from acnportal import algorithms as A

    if name == "uncontrolled":
        return A.UncontrolledCharging()
    if name == "round-robin":
        return A.RoundRobin(A.first_come_first_served)
    if name == "edf":
        return A.SortedSchedulingAlgo(A.earliest_deadline_first)
    if name == "llf":
        return A.SortedSchedulingAlgo(A.least_laxity_first)
    raise ValueError(name)


@dataclass
class AcnResult:
    algorithm: str
    delivered_kwh: float
    demanded_kwh: float
    delivered_pct: float
    peak_kw: float
    limit_violations: int
    seconds: float
    site_power_kw: list[float]


def simulate(network, algorithm, events: list, grid: Grid):
    """Runs acnsim on the grid's step length; returns the simulator and the seconds it took."""
    from acnportal import acnsim

    sim = acnsim.Simulator(
        network,
        algorithm,
        acnsim.EventQueue(events),
        grid.start,
        period=grid.step.total_seconds() / 60.0,
        verbose=False,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        # Uncontrolled charging breaks the limit on purpose; acnsim warns every step.
        warnings.simplefilter("ignore")
        sim.run()
    return sim, time.perf_counter() - started


def run_acnportal(
    grid: Grid,
    site_limit_kw: float,
    algorithm: str,
    integer_departures: bool = False,
) -> AcnResult:
    """Simulates the grid's sessions in acnsim with one of acnportal's algorithms."""
    from acnportal import acnsim

    slots = assign_slots(grid)
    stations = sorted(set(slots.values()))
    network = acnsim.ChargingNetwork()
    max_a = EVSE_MAX_KW * 1000.0 / VOLTAGE
    for sid in stations:
        network.register_evse(acnsim.EVSE(sid, max_rate=max_a, min_rate=0), VOLTAGE, 0)
    limit_a = site_limit_kw * 1000.0 / VOLTAGE
    network.add_constraint(acnsim.Current(stations), limit_a, name="site")

    events = []
    for s in grid.sessions:
        if s.leave <= s.arrive or s.need_kwh <= 0:
            continue  # never plugged in on the grid / nothing to deliver (counted in demand)
        battery = acnsim.Battery(s.need_kwh, 0, EVSE_MAX_KW)
        told = float(s.leave) if integer_departures else s.told_departure_steps
        ev = acnsim.EV(
            s.arrive,
            s.leave,
            s.need_kwh,
            slots[s.session_id],
            s.session_id,
            battery,
            estimated_departure=told,
        )
        events.append(acnsim.PluginEvent(s.arrive, ev))
    sim, took = simulate(network, acnportal_algorithm(algorithm), events, grid)
    delivered = sum(ev.energy_delivered for ev in sim.ev_history.values())
    demanded = grid.demanded_kwh
    agg_a = sim.charging_rates.sum(axis=0)
    power = (agg_a * VOLTAGE / 1000.0)[: grid.steps]
    pilots_a = sim.pilot_signals.sum(axis=0)
    violations = int((pilots_a > limit_a * (1 + 1e-6) + 1e-5).sum())
    return AcnResult(
        algorithm=algorithm,
        delivered_kwh=delivered,
        demanded_kwh=demanded,
        delivered_pct=100.0 * delivered / demanded if demanded > 0 else 100.0,
        peak_kw=float(power.max()) if len(power) else 0.0,
        limit_violations=violations,
        seconds=took,
        site_power_kw=[float(p) for p in power],
    )


def cached(folder: Path | None, key: tuple, compute) -> AcnResult:
    """acnportal results are slow to make; keep them by their inputs."""
    if folder is None:
        return compute()
    name = "_".join(str(k) for k in key).replace("/", "-").replace(" ", "") + ".json"
    path = folder / name
    if path.exists():
        return AcnResult(**json.loads(path.read_text()))
    r = compute()
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(r.__dict__))
    return r


# --------------------------------------------------------------------------- chargegrid


def run_chargegrid(
    binary: str,
    path: Path,
    site_limit_kw: float | None,
    algorithms: list[str],
    start_day: date | None = None,
    days: int | None = None,
    record_power: bool = False,
    extra: list[str] | None = None,
) -> dict[str, dict]:
    """Runs `chargegrid simulate replay` and returns its JSON reports by algorithm
    (`site_limit_kw` None: no kW cap, e.g. with `--network` in `extra`)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "replay.json"
        cmd = [
            binary,
            "simulate",
            "replay",
            str(path),
            "--algorithm",
            ",".join(algorithms),
            "--json",
            str(out),
        ]
        if site_limit_kw is not None:
            cmd += ["--site-limit-kw", f"{site_limit_kw:g}"]
        if start_day is not None:
            cmd += ["--from", start_day.isoformat()]
        if days is not None:
            cmd += ["--days", str(days)]
        if record_power:
            cmd.append("--record-power")
        cmd += extra or []
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        reports = json.loads(out.read_text())
    return {r["algorithm"]: r for r in reports}


def uncontrolled_peak_kw(binary: str, path: Path, start_day=None, days=None) -> float:
    """The uncontrolled peak as the replay reports it (the limit does not matter to it)."""
    r = run_chargegrid(binary, path, 1000.0, ["uncontrolled"], start_day, days)
    return r["uncontrolled"]["peak_kw"]


def limit_for(peak_kw: float, share: float) -> float:
    """As replay_compare: a share of the uncontrolled peak, rounded to 0.1 kW."""
    return round(peak_kw * share * 10.0) / 10.0


# --------------------------------------------------------------------------- main


def compact_table(rows: list[dict]) -> list[str]:
    """One line per case: acnportal / chargegrid for each baseline, the largest difference,
    and chargegrid's allocator and the optimum for reference."""
    out = [
        "| file (limit) | uncontrolled | round-robin | EDF | LLF | largest difference "
        "| chargegrid | offline optimum |",
        "|---|---|---|---|---|---:|---:|---:|",
    ]
    for row in rows:
        algos = row["algorithms"]
        cells, diffs = [], []
        for a in BASELINES:
            if a in algos and "acnportal_delivered_pct" in algos[a]:
                x = algos[a]
                cells.append(
                    f"{x['acnportal_delivered_pct']:.2f} / {x['chargegrid_delivered_pct']:.2f}"
                )
                diffs.append(x["difference_points"])
            else:
                cells.append("–")
        big = max(diffs, key=abs) if diffs else 0.0
        out.append(
            f"| {row['name']} | "
            + " | ".join(cells)
            + f" | {big:+.3f} | {algos['chargegrid']['chargegrid_delivered_pct']:.2f} "
            f"| {algos['offline-optimal']['chargegrid_delivered_pct']:.2f} |"
        )
    return out



@dataclass
class Case:
    file: Path
    share: float | None  # of the whole file's uncontrolled peak
    limit_kw: float | None = None  # or an explicit limit
    start_day: date | None = None
    days: int | None = None
    algorithms: list[str] | None = None

    @property
    def label(self) -> str:
        site, year, month = self.file.name.split("-")[:3]
        text = f"{site} {year}-{month}"
        if self.start_day is not None:
            text += f" from {self.start_day}"
            if self.days is not None:
                text += f", {self.days} d"
        return text


def parse_case(text: str) -> Case:
    """`FILE:LIMIT[:FROM:DAYS[:ALGOS]]`: FILE a path or a name in the data folder; LIMIT a
    share of the whole file's uncontrolled peak (0.3) or kW (37.6kW); ALGOS `+`-separated
    acnportal algorithms (default: --algorithms)."""
    parts = text.split(":")
    f = Path(parts[0])
    if not f.exists():
        f = DATA / parts[0]
    if parts[1].lower().endswith("kw"):
        case = Case(file=f, share=None, limit_kw=float(parts[1][:-2]))
    else:
        case = Case(file=f, share=float(parts[1]))
    if len(parts) >= 3 and parts[2]:
        case.start_day = date.fromisoformat(parts[2])
    if len(parts) >= 4 and parts[3]:
        case.days = int(parts[3])
    if len(parts) >= 5 and parts[4]:
        case.algorithms = parts[4].split("+")
    return case


CALTECH = "caltech-2019-05-01_2019-08-31.csv.gz"
JPL = "jpl-2019-09-01_2019-12-31.csv.gz"
# Whole files for the fast algorithms. acnportal's RoundRobin raises each EV by 0.1 A per
# feasibility check (hundreds of checks per EV and step): about 16 CPU-minutes for the whole
# Caltech file at 30 % and some 50 for a whole JPL file, so it runs on the whole Caltech file at
# 30 % only, and on a fixed 14-day window of each file (at the whole file's limits) with the rest.
DEFAULT_CASES = [
    f"{CALTECH}:0.3:::uncontrolled+round-robin+edf+llf",
    f"{CALTECH}:0.5:::uncontrolled+edf+llf",
    f"{JPL}:0.3:::uncontrolled+edf+llf",
    f"{JPL}:0.5:::uncontrolled+edf+llf",
    f"{CALTECH}:0.3:2019-06-03:14",
    f"{CALTECH}:0.5:2019-06-03:14",
    f"{JPL}:0.3:2019-09-09:14",
    f"{JPL}:0.5:2019-09-09:14",
]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default=DEFAULT_BINARY, help="chargegrid release binary")
    p.add_argument(
        "--case",
        action="append",
        help="FILE:LIMIT[:FROM:DAYS[:ALGOS]], LIMIT a share of the whole file's uncontrolled "
        "peak (0.3) or kW (37.6kW), ALGOS like edf+llf; repeatable (default: caltech 2019-05 "
        "and jpl 2019-09 at 30 %% and 50 %%, whole files and 14-day windows)",
    )
    p.add_argument(
        "--algorithms",
        default=",".join(BASELINES),
        help="acnportal algorithms to run (default: %(default)s)",
    )
    p.add_argument(
        "--integer-departures",
        action="store_true",
        help="tell acnportal the departure step (int) instead of the exact departure in "
        "fractional steps (chargegrid sorts EDF/LLF by the exact time)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=REPO / "target" / "acnportal-cache",
        help="keep acnportal results here, keyed by file, window, limit and algorithm "
        "(default: %(default)s; --no-cache to always simulate)",
    )
    p.add_argument("--no-cache", dest="cache", action="store_const", const=None)
    p.add_argument("--out", type=Path, help="write the markdown table here")
    p.add_argument("--json", type=Path, help="write all figures as JSON here")
    args = p.parse_args(argv)

    cases = [parse_case(c) for c in (args.case or DEFAULT_CASES)]
    algos = [a for a in args.algorithms.split(",") if a]
    peaks: dict[tuple, float] = {}
    rows = []
    lines = [
        "| file (limit) | algorithm | acnportal % | chargegrid % | difference (points) "
        "| acnportal s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    print(lines[0])
    print(lines[1])
    total_started = time.perf_counter()
    for case in cases:
        if case.limit_kw is not None:
            peak, limit = None, case.limit_kw
        else:
            if case.file not in peaks:
                peaks[case.file] = uncontrolled_peak_kw(args.binary, case.file)
            peak = peaks[case.file]
            limit = limit_for(peak, case.share)
        sessions = read_sessions(case.file)
        grid = build_grid(sessions, case.start_day, case.days)
        cg = run_chargegrid(
            args.binary, case.file, limit, REFERENCES + BASELINES, case.start_day, case.days
        )
        # Same inputs? The binary reports how many sessions, steps and kWh it replayed.
        ref = cg["chargegrid"]
        if (ref["sessions"], ref["steps"]) != (len(grid.sessions), grid.steps) or abs(
            ref["energy_demanded_kwh"] - grid.demanded_kwh
        ) > 1e-6 * max(1.0, grid.demanded_kwh):
            print(
                f"warning: inputs differ from the binary's: {len(grid.sessions)} sessions, "
                f"{grid.steps} steps, {grid.demanded_kwh:.3f} kWh here vs "
                f"{ref['sessions']}, {ref['steps']}, {ref['energy_demanded_kwh']:.3f}",
                file=sys.stderr,
            )
        if peak is None:
            name = f"{case.label} ({limit:.1f} kW)"
        else:
            name = f"{case.label} ({limit:.1f} kW = {case.share * 100:.0f} % of {peak:.1f})"
        case_row = {
            "file": case.file.name,
            "from": case.start_day.isoformat() if case.start_day else None,
            "days": case.days,
            "share": case.share,
            "uncontrolled_peak_kw": peak,
            "site_limit_kw": limit,
            "sessions": len(grid.sessions),
            "steps": grid.steps,
            "demanded_kwh": grid.demanded_kwh,
            "algorithms": {},
        }
        for algo in case.algorithms or algos:
            r = cached(
                args.cache,
                (case.file.name, case.start_day, case.days, limit, algo, args.integer_departures),
                lambda: run_acnportal(grid, limit, algo, args.integer_departures),
            )
            c = cg[algo]
            diff = r.delivered_pct - c["delivered_pct"]
            line = (
                f"| {name} | {algo} | {r.delivered_pct:.2f} | {c['delivered_pct']:.2f} "
                f"| {diff:+.3f} | {r.seconds:.0f} |"
            )
            print(line, flush=True)
            lines.append(line)
            case_row["algorithms"][algo] = {
                "acnportal_delivered_pct": r.delivered_pct,
                "acnportal_delivered_kwh": r.delivered_kwh,
                "acnportal_peak_kw": r.peak_kw,
                "acnportal_limit_violations": r.limit_violations,
                "acnportal_seconds": r.seconds,
                "chargegrid_delivered_pct": c["delivered_pct"],
                "chargegrid_delivered_kwh": c["energy_delivered_kwh"],
                "chargegrid_peak_kw": c["peak_kw"],
                "chargegrid_limit_violations": c["limit_violations"],
                "difference_points": diff,
            }
        for algo in REFERENCES:
            c = cg[algo]
            line = f"| {name} | {algo} (chargegrid only) | – | {c['delivered_pct']:.2f} | – | – |"
            print(line, flush=True)
            lines.append(line)
            case_row["algorithms"][algo] = {"chargegrid_delivered_pct": c["delivered_pct"]}
        case_row["name"] = name
        rows.append(case_row)
    summary = compact_table(rows)
    print()
    print("\n".join(summary))
    print(f"\ntotal {time.perf_counter() - total_started:.0f} s", file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            "Delivered energy, % of demand: acnportal / chargegrid's re-implementation\n\n"
            + "\n".join(summary)
            + "\n\nIn detail (acnportal s: simulation time of the acnportal run)\n\n"
            + "\n".join(lines)
            + "\n"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
