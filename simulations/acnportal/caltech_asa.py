#!/usr/bin/env python3
"""Cross-check `chargegrid simulate replay --network` on the Caltech ACN topology against
acnportal's own Caltech site and adacharge's Adaptive Scheduling Algorithm (ASA).

Both sides replay the same ACN-Data sessions on the same step grid (crosscheck.py's model: 5
minute steps, arrival rounded up, departure down, need = delivered energy, vehicle top power
6.6 kW). acnportal simulates them on `caltech_acn(basic_evse=True, transformer_cap=KVA)` (54
continuous 0-32 A EVSEs at 208 V wired line to line, two 80 A pods, the transformer's secondary
and primary line limits as phasor magnitudes) with ASA (second-order-cone constraints, solved
by CLARABEL through cvxpy) and with acnportal's EDF and LLF; chargegrid replays them on
examples/networks/caltech-acn.toml with its transformer scaled to KVA. Since the two
simulators differ in small ways (acnportal skips a second car at a busy EVSE, checks limits its
own way), chargegrid's allocator (and its EDF) also runs *inside* acnportal's simulator: acnportal
asks `chargegrid simulate allocate` for every period's pilots, exactly as it asks ASA, so both
are judged by the same referee on the same sessions (--in-acnportal).

    target/py-acn/bin/python simulations/acnportal/caltech_asa.py \\
        --binary target/release/chargegrid --kva 30 --from 2019-11-11 --days 3

Setup: the crosscheck venv (README.md) plus adacharge, which is not on PyPI:
    target/py-acn/bin/pip install cvxpy==1.9.3 \\
        "adacharge @ git+https://github.com/caltech-netlab/adacharge@b7d5fdd"
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crosscheck as cc  # noqa: E402

NETWORK = cc.REPO / "examples" / "networks" / "caltech-acn.toml"


def scaled_network(kva: float) -> str:
    """The Caltech network file with its transformer rated `kva` (both line limits scale)."""
    text = NETWORK.read_text()
    secondary = f"{kva * 1000 / 3 / 120:.2f}"
    primary = f"{kva * 1000 / 3 / 277:.2f}"
    text, n1 = re.subn(
        r'(id = "transformer"\n(?:.*\n)*?limit = \{ max_current = )\[[^\]]*\]',
        lambda m: f"{m.group(1)}[{secondary}, {secondary}, {secondary}]",
        text,
    )
    text, n2 = re.subn(
        r"(delta_primary = \{ turns_ratio = 4.0, max_current = )[0-9.]+",
        lambda m: f"{m.group(1)}{primary}",
        text,
    )
    assert n1 == 1 and n2 == 1, "the transformer group of caltech-acn.toml changed shape"
    return text


def acn_algorithm(name: str):
    from acnportal import algorithms as A

    if name == "asa-qc":
        import adacharge as ada

        objective = [
            ada.ObjectiveComponent(ada.quick_charge),
            ada.ObjectiveComponent(ada.equal_share, 1e-12),
        ]
        return ada.AdaptiveSchedulingAlgorithm(objective, solver="CLARABEL")
    if name == "asa-energy":
        import adacharge as ada

        objective = [
            ada.ObjectiveComponent(ada.total_energy, 1000),
            ada.ObjectiveComponent(ada.quick_charge),
            ada.ObjectiveComponent(ada.equal_share, 1e-12),
        ]
        return ada.AdaptiveSchedulingAlgorithm(objective, solver="CLARABEL")
    if name == "edf":
        return A.SortedSchedulingAlgo(A.earliest_deadline_first)
    if name == "llf":
        return A.SortedSchedulingAlgo(A.least_laxity_first)
    raise ValueError(name)


class StepperProcess:
    """`chargegrid simulate allocate` as a child process: one JSON line in, one out."""

    def __init__(self, binary: str, network: Path, algorithm: str, min_current: float,
                 exact_meters: bool = True):
        self.proc = subprocess.Popen(
            [binary, "simulate", "allocate", "--network", str(network),
             "--algorithm", algorithm, "--min-current-a", str(min_current)]
            + (["--exact-meters"] if exact_meters else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, request: dict) -> list[float]:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"chargegrid: {answer['error']}")
        return answer["pilots"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def chargegrid_in_acnportal(stepper: StepperProcess, start: datetime, draws: bool = True):
    """An acnportal algorithm that asks chargegrid for every period's pilots: acnportal keeps
    the clock, the vehicles and the limit checks, as for its own algorithms. With `draws`,
    chargegrid is also told what each vehicle drew over the last period (acnportal's
    `last_actual_charging_rate`, for a vehicle that was charging under the last pilot), as the
    live scheduler reads it from the charger's meter values, and learns what each vehicle takes."""
    from acnportal.algorithms import BaseAlgorithm

    class Chargegrid(BaseAlgorithm):
        def __init__(self):
            super().__init__()
            self.max_recompute = 1  # every period, as acnportal's sorted algorithms and ASA

        def schedule(self, active_sessions):
            minutes = self.interface.period
            piloted = self.interface.last_applied_pilot_signals if draws else {}
            drawn = self.interface.last_actual_charging_rate if draws else {}
            at = lambda periods: (start + timedelta(minutes=minutes * periods)).astimezone(
                timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            sessions = [
                {
                    "station": s.station_id,
                    "remaining_wh": 1000.0 * s.remaining_demand,
                    "departure": at(s.estimated_departure),
                    "max_a": float(min(self.interface.max_pilot_signal(s.station_id),
                                       s.max_rates[0] if len(s.max_rates) else float("inf"))),
                    "session": s.session_id,
                    **({"drawn_a": float(drawn[s.session_id])}
                       if s.session_id in piloted and s.session_id in drawn else {}),
                }
                for s in active_sessions
            ]
            pilots = stepper.ask({
                "now": at(self.interface.current_time),
                "period_s": int(minutes * 60),
                "sessions": sessions,
            }) if sessions else []
            return {s.station_id: [a] for s, a in zip(active_sessions, pilots)}

    return Chargegrid()


def told_vehicle_top(algorithm, top_a: float):
    """`algorithm` (any acnportal algorithm, ASA and the chargegrid bridge included) told that
    no vehicle takes more than `top_a`: each session's max_rates is capped before it schedules.
    acnportal's own default tells every algorithm the EVSE's 32 A while its batteries (6.6 kW at
    208 V) draw at most 31.73 A, and the pilot above that is lost under a full limit."""
    import numpy as np

    inner = algorithm.schedule

    def schedule(active_sessions):
        for s in active_sessions:
            s.max_rates = np.minimum(s.max_rates, top_a)
        return inner(active_sessions)

    algorithm.schedule = schedule
    return algorithm


def run_acn(grid: cc.Grid, kva: float, algorithm, label: str | None = None,
            vehicle_top_a: float | None = None) -> dict:
    """Simulates the grid's sessions on acnportal's Caltech site with `algorithm` (a name of
    acn_algorithm's, or an acnportal algorithm object labelled `label`), told that no vehicle
    takes more than `vehicle_top_a` if given (else acnportal's default: the EVSE's 32 A)."""
    from acnportal import acnsim
    from acnportal.acnsim.network.sites import caltech_acn

    network = caltech_acn(basic_evse=True, voltage=cc.VOLTAGE, transformer_cap=kva)
    known = set(network.station_ids)
    busy: dict[str, int] = {}
    events, skipped = [], 0
    for s in sorted(grid.sessions, key=lambda s: (s.arrive, s.leave)):
        if s.leave <= s.arrive or s.need_kwh <= 0:
            continue
        if s.station_id not in known or busy.get(s.station_id, -1) > s.arrive:
            skipped += 1  # acnportal refuses a second car at one EVSE
            continue
        busy[s.station_id] = s.leave
        battery = acnsim.Battery(s.need_kwh, 0, cc.EVSE_MAX_KW)
        ev = acnsim.EV(
            s.arrive,
            s.leave,
            s.need_kwh,
            s.station_id,
            s.session_id,
            battery,
            estimated_departure=s.told_departure_steps,
        )
        events.append(acnsim.PluginEvent(s.arrive, ev))
    chosen = acn_algorithm(algorithm) if isinstance(algorithm, str) else algorithm
    if vehicle_top_a is not None:
        chosen = told_vehicle_top(chosen, vehicle_top_a)
    sim, took = cc.simulate(network, chosen, events, grid)
    delivered = {ev.session_id: ev.energy_delivered for ev in sim.ev_history.values()}
    needs = {s.session_id: s.need_kwh for s in grid.sessions if s.need_kwh > 0}
    served = sum(1 for sid, need in needs.items() if delivered.get(sid, 0.0) >= 0.99 * need)
    feasible = bool(network.is_feasible(sim.pilot_signals))
    return {
        "algorithm": label or f"acnportal {algorithm}",
        "delivered_pct": 100.0 * sum(delivered.values()) / grid.demanded_kwh,
        "sessions_fully_served_pct": 100.0 * served / len(needs),
        "limits_held": feasible,
        "skipped_sessions": skipped,
        "seconds": took,
    }


def run_chargegrid(binary: str, args, net: Path, algorithms: str, min_current: float) -> list[dict]:
    """`chargegrid simulate replay` on the network file `net` (the scaled Caltech site)."""
    reports = cc.run_chargegrid(
        binary,
        args.file,
        None,
        algorithms.split(","),
        args.from_day,
        args.days,
        extra=["--network", str(net), "--min-current-a", str(min_current)],
    )
    return [
        {
            "algorithm": f"chargegrid {name}"
            + (f" ({min_current:g} A floor)" if min_current else " (no floor)"),
            "delivered_pct": r["delivered_pct"],
            "sessions_fully_served_pct": r["sessions_fully_served_pct"],
            "limits_held": r["limit_violations"] == 0,
            "skipped_sessions": 0,
            "seconds": None,
        }
        for name, r in reports.items()
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=cc.DEFAULT_BINARY)
    p.add_argument("--file", type=Path, default=cc.DATA / "caltech-2019-09-01_2019-12-31.csv.gz")
    p.add_argument("--from", dest="from_day", type=date.fromisoformat, default=date(2019, 11, 11))
    p.add_argument("--days", type=int, default=3)
    p.add_argument("--kva", type=float, default=30.0)
    p.add_argument("--acn", default="asa-qc,asa-energy,edf,llf", help="acnportal algorithms")
    p.add_argument("--json", type=Path)
    p.add_argument("--in-acnportal", default="chargegrid,edf",
                   help="chargegrid algorithms to run inside acnportal's simulator ('' for none)")
    p.add_argument("--vehicle-top", choices=("evse", "known"), default="evse",
                   help="what algorithms inside acnportal are told a vehicle takes: the EVSE's "
                        "32 A (acnportal's default) or the vehicles' own 6.6 kW / 208 V = 31.73 A "
                        "(what chargegrid's replay tells its allocator)")
    p.add_argument("--draws", choices=("exact", "live", "none"), default="exact",
                   help="what chargegrid inside acnportal is told of each vehicle's last draw: "
                        "all of it, judged as exact (acnportal's vehicles draw what they report), "
                        "judged by the live scheduler's rule (1 A or 4 %% may be the meter), or nothing")
    args = p.parse_args(argv)
    top_a = cc.EVSE_MAX_KW * 1000.0 / cc.VOLTAGE if args.vehicle_top == "known" else None

    grid = cc.build_grid(cc.read_sessions(args.file), args.from_day, args.days)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "caltech.toml"
        net.write_text(scaled_network(args.kva))
        for floor in (6.0, 0.0):
            rows += run_chargegrid(args.binary, args, net, "chargegrid,edf,llf", floor)
        for name in filter(None, args.in_acnportal.split(",")):
            for floor in (6.0, 0.0):
                label = (f"chargegrid {name} in acnportal's simulator"
                         + (f" ({floor:g} A floor)" if floor else " (no floor)"))
                print(f"{label} ...", file=sys.stderr, flush=True)
                stepper = StepperProcess(args.binary, net, name, floor,
                                         exact_meters=args.draws == "exact")
                try:
                    algorithm = chargegrid_in_acnportal(stepper, grid.start,
                                                        draws=args.draws != "none")
                    rows.append(run_acn(grid, args.kva, algorithm, label, top_a))
                finally:
                    stepper.close()
    for name in filter(None, args.acn.split(",")):
        print(f"acnportal {name} ...", file=sys.stderr, flush=True)
        rows.append(run_acn(grid, args.kva, name, vehicle_top_a=top_a))
    print(
        f"Caltech ACN, {args.kva:g} kVA transformer, {args.file.name} from {args.from_day} "
        f"for {args.days} days: {len(grid.sessions)} sessions, {grid.demanded_kwh:.1f} kWh demanded\n"
    )
    print("| algorithm | delivered % | fully served % | limits held | sessions skipped | s |")
    print("|---|---:|---:|---|---:|---:|")
    for r in rows:
        secs = "" if r["seconds"] is None else f"{r['seconds']:.1f}"
        print(
            f"| {r['algorithm']} | {r['delivered_pct']:.2f} | {r['sessions_fully_served_pct']:.1f} "
            f"| {'yes' if r['limits_held'] else 'NO'} | {r['skipped_sessions']} | {secs} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
