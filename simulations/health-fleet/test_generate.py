#!/usr/bin/env python3
"""Smoke check for generate.py: `target/py-fleet/bin/python simulations/health-fleet/test_generate.py`.

Generates a small fleet twice (seed 11, 6 vehicles, 60 days) from the grid cache (built on
first use, ~8 CPU minutes) and checks formats, invariants and reproducibility. Plain asserts;
prints 'N passed, 0 failed' at the end. Never touches seed 2.
"""
import csv
import datetime as dt
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as G  # noqa: E402

MEASURANDS = {
    "Energy.Active.Import.Register": "Wh", "Power.Active.Import": "W", "Current.Import": "A",
    "Voltage": "V", "SoC": "Percent", "Temperature": "Celsius",
}
passed = set()  # distinct named checks that held (each may run on many samples)


def check(name, cond, msg=""):
    assert cond, f"{name}: {msg}"
    passed.add(name)


def ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def main():
    tmp = Path(tempfile.mkdtemp(prefix="health-fleet-test-"))
    args = ["--seed", "11", "--vehicles", "6", "--days", "60"]
    G.main(args + ["--out", str(tmp / "a")])
    G.main(args + ["--out", str(tmp / "b")])
    out = tmp / "a"

    # grid physics sanity
    g = G.CellGrid(G.cache_file(G.DEFAULT_CACHE))
    check("capacity falls with ageing", all(g.Qc20[i + 1, 0] < g.Qc20[i, 0] for i in range(len(g.A) - 1)))
    check("resistance grows with rc", all(g.R10[0, j + 1] > g.R10[0, j] for j in range(len(g.RC) - 1)))
    check("new cell near 5 Ah", 4.9 < g.q_new < 5.3, g.q_new)
    check("no incomplete grid solves", not g.meta["failures"], g.meta["failures"])

    # reproducibility
    h = [hashlib.sha256((tmp / d / f).read_bytes()).hexdigest() for d in "ab" for f in ("sessions.jsonl", "truth.json")]
    check("same seed, same files", h[0] == h[2] and h[1] == h[3])

    fleet = json.loads((out / "fleet.json").read_text())
    check("3 models", len(fleet["models"]) == 3)
    for m in fleet["models"]:
        b = m["battery"]
        check("battery keys", set(b) == {"nominal_capacity_ah", "nominal_voltage_v", "nominal_energy_kwh", "chemistry",
                                         "cells_series", "cells_parallel", "cell_min_voltage_v", "cell_max_voltage_v"})
        check("pack voltage 340-410 V", 340 <= b["nominal_voltage_v"] <= 410, b)
    vids = {v["vehicle_id"] for v in fleet["vehicles"]}
    check("6 vehicles", len(vids) == 6)
    for v in fleet["vehicles"]:
        check("VIN 17 chars", len(v["vehicle_id"]) == 17)
        check("id_tag <= 20", len(v["id_tag"]) <= 20)
    rows = list(csv.DictReader(open(out / "vehicles.csv")))
    check("csv rows", len(rows) == 6 and "cells_series" in rows[0])
    chargers = json.loads((out / "chargers.json").read_text())
    check("20 chargers", len(chargers["chargers"]) == 20 and chargers["site_id"])

    sessions = [json.loads(line) for line in open(out / "sessions.jsonl")]
    check("some sessions", len(sessions) >= 12, len(sessions))
    by_chg = {}
    for s in sessions:
        check("vehicle known", s["vehicle_id"] in vids)
        check("connector 1", s["connector_id"] == 1)
        check("stop after start", ts(s["stop"]) > ts(s["start"]))
        check("meter increases", s["meter_stop_wh"] > s["meter_start_wh"])
        by_chg.setdefault(s["charger_id"], []).append(s)
        prev_t, prev_e = ts(s["start"]), s["meter_start_wh"]
        for smp in s["samples"]:
            t = ts(smp["timestamp"])
            check("sample inside session", ts(s["start"]) < t <= ts(s["stop"]))
            check("samples ascending", t > prev_t)
            vals = {v["measurand"]: v for v in smp["values"]}
            check("measurands", set(vals) == set(MEASURANDS))
            for k, v in vals.items():
                check("unit", v["unit"] == MEASURANDS[k])
                check("value is a string", isinstance(v["value"], str))
            e = float(vals["Energy.Active.Import.Register"]["value"])
            check("register monotone", prev_e <= e <= s["meter_stop_wh"] + 1)
            soc = vals["SoC"]["value"]
            check("SoC integer percent", soc.isdigit() and 0 <= int(soc) <= 100)
            check("temperature 0-40 +-1", -1.5 <= float(vals["Temperature"]["value"]) <= 41.5)
            check("voltage below 4.2 V/cell + cable", float(vals["Voltage"]["value"]) < 4.25 * 108 + 10)
            prev_t, prev_e = t, e
    for cid, ss in by_chg.items():
        for x, y in zip(ss, ss[1:]):
            check("charger sessions do not overlap", ts(y["start"]) >= ts(x["stop"]), cid)
            check("charger register monotone across sessions", y["meter_start_wh"] >= x["meter_stop_wh"], cid)

    truth = json.loads((out / "truth.json").read_text())
    labels = {f["type"] for v in truth["vehicles"] for f in v["faults"]}
    check("all fault kinds present", labels == {"capacity_step", "resistance_jump", "soc_calibration", "below_80"}, labels)
    check("healthy flag", any(v["healthy"] for v in truth["vehicles"]))
    check("two faulty chargers", sum(c["faulty"] for c in truth["chargers"]) == 2)
    for v in truth["vehicles"]:
        check("truth per session", len(v["sessions"]) == sum(s["vehicle_id"] == v["vehicle_id"] for s in sessions))
        for s in v["sessions"]:
            check("SoH range", 65 < s["soh_pct"] <= 100.0 + 1e-6, s["soh_pct"])
            check("resistance ratio >= 1", s["resistance_ratio"] >= 0.99)
        if any(f["type"] == "below_80" for f in v["faults"]):
            check("below_80 is below 80", all(s["soh_pct"] < 80 for s in v["sessions"]))
    shutil.rmtree(tmp)
    print(f"{len(passed)} passed, 0 failed")


if __name__ == "__main__":
    main()
