#!/usr/bin/env python3
"""Physics-based EV fleet generator for validating chargegrid's battery-health estimator.

Written independently of chargegrid's health code: it knows only the data formats
(OCPP-style meter values, a fleet registry) and battery physics.

Two stages:

1. Cell grid (cached, once): PyBaMM DFN with the OKane2022 parameter set (the Chen2020
   LG M50 NMC811/graphite 5 Ah cell with Arrhenius temperature dependence of diffusivities
   and electrolyte transport). Ageing is applied to the parameters (loss of lithium
   inventory, loss of active material in both electrodes, contact/film resistance) and the
   grid (ageing x resistance x temperature x C-rate) of CC-CV charges is solved and stored
   as npz under target/health-fleet-cache/. At every ageing state the true capacity is
   measured by a C/20 CC-CV full charge and the true resistance by a 10 s 1C charge pulse.
2. Fleet (each run, from the cache): vehicles, chargers, a year of DC sessions sampled
   every 30 s, with measurement errors and data defects, plus a separate truth file.

Run `python generate.py --help`. See README.md beside this file.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")
os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_CACHE = REPO / "target" / "health-fleet-cache"
DEFAULT_OUT = REPO / "target" / "health-fleet"

# --------------------------------------------------------------------------------------
# Cell grid definition
# --------------------------------------------------------------------------------------
PARAMETER_SET = "OKane2022"
CELL_NOMINAL_AH = 5.0  # "Nominal cell capacity [A.h]" of the parameter set; C-rates refer to it
CELL_NOMINAL_V = 3.63  # LG INR21700 M50 datasheet nominal voltage
CELL_VMIN, CELL_VMAX = 2.5, 4.2  # parameter set's voltage cut-offs
GRID = {
    "version": 3,
    # ageing coordinate: fraction of lithium inventory lost; LAM_ne = 0.5 a, LAM_pe = 0.3 a
    "a": [0.0, 0.04, 0.08, 0.12, 0.17, 0.25],
    "lam_ne_per_a": 0.5,
    "lam_pe_per_a": 0.3,
    # extra series (contact/film) resistance per cell, ohm
    "rc": [0.0, 0.022, 0.055],
    "T": [0.0, 10.0, 20.0, 30.0, 40.0],
    "c": [0.25, 0.5, 1.0, 1.5, 2.0],
    "s0": 0.02,  # SoC at which the reference CC-CV charges start
    "s0_fresh": 0.30,  # SoC of the second start (relaxation transient)
    "ds": 0.0025,  # SoC grid step
    "cv_cutoff_c": 0.05,  # CV ends at C/20
    "period_s": 10,
}
S_GRID = np.round(np.arange(0.0, 1.0 + 1e-9, GRID["ds"]), 6)
D_GRID = np.round(np.arange(0.0, 1.0 - GRID["s0_fresh"] + 1e-9, GRID["ds"]), 6)


def grid_key() -> str:
    import importlib.metadata as md

    blob = json.dumps({"grid": GRID, "set": PARAMETER_SET, "pybamm": md.version("pybamm")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cache_file(cache_dir: Path) -> Path:
    return Path(cache_dir) / f"grid-{grid_key()}.npz"


# --------------------------------------------------------------------------------------
# Stage 1: PyBaMM grid
# --------------------------------------------------------------------------------------
def _aged_parameters(pybamm, base, a: float, rc: float, T: float):
    """Parameter values of a cell aged to coordinate `a` with extra resistance `rc` at T (degC).

    LAM: active-material volume fractions scaled down (this also shrinks the reactive
    surface area, so kinetics slow down too). LLI: total lithium in the particles reduced by
    the fraction `a`, expressed through the negative electrode's initial concentration
    (PyBaMM's electrode-SOH solver takes the cyclable lithium from the initial concentrations).
    """
    p = base.copy()
    en = base["Negative electrode active material volume fraction"]
    ep = base["Positive electrode active material volume fraction"]
    ln = base["Negative electrode thickness [m]"]
    lp = base["Positive electrode thickness [m]"]
    cn = base["Initial concentration in negative electrode [mol.m-3]"]
    cp = base["Initial concentration in positive electrode [mol.m-3]"]
    n_li = en * ln * cn + ep * lp * cp  # mol per m2 of electrode
    en2 = en * (1.0 - GRID["lam_ne_per_a"] * a)
    ep2 = ep * (1.0 - GRID["lam_pe_per_a"] * a)
    cn2 = (n_li * (1.0 - a) - ep2 * lp * cp) / (en2 * ln)
    if not 0.0 < cn2 < base["Maximum concentration in negative electrode [mol.m-3]"]:
        raise ValueError(f"infeasible ageing state a={a}")
    p.update(
        {
            "Negative electrode active material volume fraction": en2,
            "Positive electrode active material volume fraction": ep2,
            "Initial concentration in negative electrode [mol.m-3]": cn2,
            "Contact resistance [Ohm]": rc,
            "Ambient temperature [K]": 273.15 + T,
            "Initial temperature [K]": 273.15 + T,
        }
    )
    return p


def build_cache(cache_dir: Path, log=print) -> Path:
    import pybamm

    pybamm.set_logging_level("ERROR")
    t_wall, t_cpu = time.time(), time.process_time()
    base = pybamm.ParameterValues(PARAMETER_SET)
    assert abs(base["Nominal cell capacity [A.h]"] - CELL_NOMINAL_AH) < 1e-9
    model = pybamm.lithium_ion.DFN({"contact resistance": "true"})
    lparam = pybamm.LithiumIonParameters()
    A, RC, TT, CC = (np.array(GRID[k], float) for k in ("a", "rc", "T", "c"))
    nA, nR, nT, nC, nS, nD = len(A), len(RC), len(TT), len(CC), len(S_GRID), len(D_GRID)
    period = f"{GRID['period_s']} seconds"
    cv = GRID["cv_cutoff_c"]

    Vref = np.full((nA, nR, nT, nC, nS), np.nan)
    Iref = np.full((nA, nR, nT, nC, nS), np.nan)
    Tref = np.full((nA, nR, nT, nC, nS), np.nan)  # time since start, s
    OCV = np.full((nA, nS), np.nan)
    DV = np.zeros((nA, nT, nC, nD))
    DI = np.zeros((nA, nT, nC, nD))
    Qocv = np.zeros(nA)
    Qc20 = np.zeros((nA, nR))
    R10 = np.zeros((nA, nR))
    stoich = np.zeros((nA, 4))
    failures = []

    def solve(p, steps, soc0):
        sim = pybamm.Simulation(
            model, parameter_values=p, experiment=pybamm.Experiment(steps, period=period),
            solver=pybamm.IDAKLUSolver(),
        )
        return sim.solve(initial_soc=soc0)

    def traj(sol, s0, q_ocv):
        q = -sol["Discharge capacity [A.h]"].entries
        s = s0 + q / q_ocv
        return (s, sol["Voltage [V]"].entries, -sol["Current [A]"].entries,
                sol["Time [s]"].entries, sol["Bulk open-circuit voltage [V]"].entries)

    def on_grid(s, y, right):
        # s is non-decreasing while charging; drop duplicates for interp
        keep = np.concatenate([[True], np.diff(s) > 1e-12])
        return np.interp(S_GRID, s[keep], y[keep], left=y[keep][0], right=right)

    n_sims = 0
    for ia, a in enumerate(A):
        p25 = _aged_parameters(pybamm, base, a, 0.0, 25.0)
        x0, x100, y100, y0 = pybamm.lithium_ion.get_min_max_stoichiometries(p25)
        Qocv[ia] = p25.evaluate(lparam.n.Q_init) * (x100 - x0)
        stoich[ia] = (x0, x100, y100, y0)
        for ir, rc in enumerate(RC):
            p = _aged_parameters(pybamm, base, a, rc, 25.0)
            sol = solve(p, ["Charge at C/20 until 4.2 V", "Hold at 4.2 V until C/100"], 0.0)
            Qc20[ia, ir] = -sol["Discharge capacity [A.h]"].entries[-1]
            if ir == 0:
                s, _, _, _, ocv = traj(sol, 0.0, Qocv[ia])
                keep = np.concatenate([[True], np.diff(s) > 1e-12])
                OCV[ia] = np.interp(S_GRID, s[keep], ocv[keep])
            sol = solve(p, ["Rest for 60 seconds", "Charge at 1C for 10 seconds"], 0.5)
            tt, vv = sol["Time [s]"].entries, sol["Voltage [V]"].entries
            R10[ia, ir] = (vv[-1] - np.interp(60.0, tt, vv)) / CELL_NOMINAL_AH
            n_sims += 2
        for iT, T in enumerate(TT):
            for ic, c in enumerate(CC):
                steps = [f"Charge at {c}C for 10 hours or until {CELL_VMAX} V",
                         f"Hold at {CELL_VMAX} V for 10 hours or until C/{round(1 / cv)}"]
                for ir, rc in enumerate(RC):
                    p = _aged_parameters(pybamm, base, a, rc, T)
                    sol = solve(p, steps, GRID["s0"])
                    n_sims += 1
                    s, v, i, t, _ = traj(sol, GRID["s0"], Qocv[ia])
                    if i[-1] > 1.2 * cv * CELL_NOMINAL_AH:
                        failures.append(dict(a=a, rc=rc, T=T, c=c, s_end=float(s[-1]), i_end=float(i[-1])))
                    Vref[ia, ir, iT, ic] = on_grid(s, v, CELL_VMAX)
                    Iref[ia, ir, iT, ic] = on_grid(s, i, 0.0)
                    Tref[ia, ir, iT, ic] = on_grid(s, t, np.inf)
                    if ir == 0:
                        s_ref, v_ref, i_ref = s, v, i
                # relaxation transient: same charge started from rest at s0_fresh (rc = 0)
                p = _aged_parameters(pybamm, base, a, 0.0, T)
                sol = solve(p, steps, GRID["s0_fresh"])
                n_sims += 1
                s, v, i, _, _ = traj(sol, GRID["s0_fresh"], Qocv[ia])
                keep = np.concatenate([[True], np.diff(s) > 1e-12])
                ds = D_GRID + GRID["s0_fresh"]
                vf = np.interp(ds, s[keep], v[keep], right=CELL_VMAX)
                if_ = np.interp(ds, s[keep], i[keep], right=0.0)
                kr = np.concatenate([[True], np.diff(s_ref) > 1e-12])
                vr = np.interp(ds, s_ref[kr], v_ref[kr], right=CELL_VMAX)
                ir_ = np.interp(ds, s_ref[kr], i_ref[kr], right=0.0)
                DV[ia, iT, ic] = vf - vr
                DI[ia, iT, ic] = if_ - ir_
            log(f"  a={a:.2f} T={T:>4.0f}C done ({n_sims} sims, cpu {time.process_time() - t_cpu:.0f}s)")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_file(cache_dir)
    import importlib.metadata as md

    meta = dict(
        grid=GRID, parameter_set=PARAMETER_SET, pybamm=md.version("pybamm"), model="DFN",
        n_sims=n_sims, cpu_s=round(time.process_time() - t_cpu, 1), wall_s=round(time.time() - t_wall, 1),
        failures=failures,
    )
    np.savez_compressed(
        out, A=A, RC=RC, T=TT, C=CC, S=S_GRID, D=D_GRID, Vref=Vref, Iref=Iref, Tref=Tref, OCV=OCV,
        DV=DV, DI=DI, Qocv=Qocv, Qc20=Qc20, R10=R10, stoich=stoich, meta=json.dumps(meta),
    )
    log(f"cache written: {out} ({n_sims} PyBaMM solves, cpu {meta['cpu_s']} s, wall {meta['wall_s']} s,"
        f" {len(failures)} incomplete)")
    return out


# --------------------------------------------------------------------------------------
# Cell model assembled from the grid
# --------------------------------------------------------------------------------------
def _locate(axis: np.ndarray, x: float):
    """Index i and weight w so that x ~ (1-w) axis[i] + w axis[i+1] (clamped)."""
    n = len(axis)
    if x <= axis[0]:
        return 0, 0.0
    if x >= axis[-1]:
        return n - 2, 1.0
    i = int(np.searchsorted(axis, x, side="right") - 1)
    i = min(i, n - 2)
    return i, float((x - axis[i]) / (axis[i + 1] - axis[i]))


class CellGrid:
    def __init__(self, path: Path):
        z = np.load(path, allow_pickle=False)
        for k in ("A", "RC", "T", "C", "S", "D", "Vref", "Iref", "OCV", "DV", "DI", "Qocv", "Qc20", "R10"):
            setattr(self, k, z[k])
        self.meta = json.loads(str(z["meta"]))
        self.q_new = float(self.Qc20[0, 0])
        self.r_new = float(self.R10[0, 0])
        self.ds = float(self.S[1] - self.S[0])
        self.cv_cut_a = GRID["cv_cutoff_c"] * CELL_NOMINAL_AH

    # bilinear over (a, rc)
    def _bil(self, arr, a, rc):
        ia, wa = _locate(self.A, a)
        ir, wr = _locate(self.RC, rc)
        return ((1 - wa) * (1 - wr) * arr[ia, ir] + wa * (1 - wr) * arr[ia + 1, ir]
                + (1 - wa) * wr * arr[ia, ir + 1] + wa * wr * arr[ia + 1, ir + 1])

    def capacity_ah(self, a, rc):
        return float(self._bil(self.Qc20, a, rc))

    def soh(self, a, rc):
        return 100.0 * self.capacity_ah(a, rc) / self.q_new

    def r_ratio(self, a, rc):
        return float(self._bil(self.R10, a, rc)) / self.r_new

    def a_for_soh(self, soh, rc):
        lo, hi = float(self.A[0]), float(self.A[-1])
        if soh >= self.soh(lo, rc):
            return lo
        if soh <= self.soh(hi, rc):
            raise ValueError(f"SoH {soh:.1f} below the grid")
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            if self.soh(mid, rc) > soh:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def rc_for_ratio(self, ratio, a):
        lo, hi = float(self.RC[0]), float(self.RC[-1])
        if ratio <= self.r_ratio(a, lo):
            return lo
        if ratio >= self.r_ratio(a, hi):
            raise ValueError(f"resistance ratio {ratio:.2f} above the grid")
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            if self.r_ratio(a, mid) < ratio:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def tables(self, a, rc):
        """Grid blended to one ageing state: arrays over (T, C, S) for the session loop."""
        ia, wa = _locate(self.A, a)
        ir, wr = _locate(self.RC, rc)
        w = [((ia, ir), (1 - wa) * (1 - wr)), ((ia + 1, ir), wa * (1 - wr)),
             ((ia, ir + 1), (1 - wa) * wr), ((ia + 1, ir + 1), wa * wr)]
        V = sum(wt * self.Vref[i] for i, wt in w)
        I = sum(wt * self.Iref[i] for i, wt in w)
        ocv = (1 - wa) * self.OCV[ia] + wa * self.OCV[ia + 1]
        DV = (1 - wa) * self.DV[ia] + wa * self.DV[ia + 1]
        DI = (1 - wa) * self.DI[ia] + wa * self.DI[ia + 1]
        q = (1 - wa) * self.Qocv[ia] + wa * self.Qocv[ia + 1]
        return SessionCell(self, V, I, ocv, DV, DI, float(q))


class SessionCell:
    """Cell of one ageing state; evaluates the quasi-static grid map at (T, s, I)."""

    def __init__(self, g: CellGrid, V, I, ocv, DV, DI, q_ocv):
        self.g, self.V, self.I, self.ocv, self.DV, self.DI, self.q_ocv = g, V, I, ocv, DV, DI, q_ocv
        self.c_amps = g.C * CELL_NOMINAL_AH

    def at(self, T, s, c0, dsoc, w_fresh):
        """Envelope and voltage map at temperature T, SoC s, for a CC-CV at C-rate c0.

        Returns (I_env, fn) where I_env is the CC-CV current the cell accepts (A) and fn(I)
        the terminal voltage at charge current I <= I_env.
        """
        g = self.g
        iT, wT = _locate(g.T, T)
        x = min(max(s, 0.0), 1.0) / g.ds
        i = min(int(x), len(g.S) - 2)
        w = x - i
        wts = np.array([[(1 - wT) * (1 - w), (1 - wT) * w], [wT * (1 - w), wT * w]])
        Vc = np.einsum("tcs,ts->c", self.V[iT:iT + 2, :, i:i + 2], wts)
        Ic = np.einsum("tcs,ts->c", self.I[iT:iT + 2, :, i:i + 2], wts)
        ocv = (1 - w) * self.ocv[i] + w * self.ocv[i + 1]
        j, wc = _locate(g.C, c0)
        I_env = (1 - wc) * Ic[j] + wc * Ic[j + 1]
        V_env = (1 - wc) * Vc[j] + wc * Vc[j + 1]
        dv = di = 0.0
        if w_fresh > 0.0:
            xd = min(max(dsoc, 0.0), g.D[-1]) / g.ds
            k = min(int(xd), len(g.D) - 2)
            wd = xd - k
            wts2 = np.array([[(1 - wT) * (1 - wd), (1 - wT) * wd], [wT * (1 - wd), wT * wd]])
            dvc = np.einsum("tcs,ts->c", self.DV[iT:iT + 2, :, k:k + 2], wts2)
            dic = np.einsum("tcs,ts->c", self.DI[iT:iT + 2, :, k:k + 2], wts2)
            dv = w_fresh * ((1 - wc) * dvc[j] + wc * dvc[j + 1])
            di = w_fresh * ((1 - wc) * dic[j] + wc * dic[j + 1])
        I_env_eff = max(0.0, min(I_env + di, c0 * CELL_NOMINAL_AH))
        # quasi-static voltage-vs-current points at this SoC: rest (OCV), every grid C-rate
        # still in its CC phase here, and the envelope point
        mask = (self.c_amps < 0.999 * I_env) & (Vc < V_env)
        xs = np.concatenate([[0.0], self.c_amps[mask], [max(I_env, 1e-6)]])
        ys = np.maximum.accumulate(np.concatenate([[ocv], Vc[mask], [V_env]]))
        slope0 = (ys[1] - ys[0]) / xs[1] if xs[1] > 0 else 0.0

        def volt(I):
            if I <= 0.0:
                v = ocv + slope0 * I
            else:
                v = float(np.interp(I, xs, ys))
            if I_env_eff > 0:
                v += dv * min(I / I_env_eff, 1.0) if I > 0 else 0.0
            return min(v, CELL_VMAX + 0.002) if I <= I_env_eff + 1e-9 else v

        return I_env_eff, volt


# --------------------------------------------------------------------------------------
# Stage 2: fleet
# --------------------------------------------------------------------------------------
MODELS = [
    # name, series, parallel, vehicle max DC power (kW)
    ("Voltaris City 40", 96, 23, 50.0),
    ("Voltaris Tourer 60", 104, 32, 100.0),
    ("Voltaris Grand 75", 108, 38, 150.0),
]
CHARGER_TYPES = [(50.0, 125.0)] * 6 + [(100.0, 250.0)] * 6 + [(150.0, 375.0)] * 8  # kW, A
YEAR0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def model_battery(name, ns, npar):
    cap = CELL_NOMINAL_AH * npar
    v = CELL_NOMINAL_V * ns
    return {
        "nominal_capacity_ah": round(cap, 1),
        "nominal_voltage_v": round(v, 1),
        "nominal_energy_kwh": round(cap * v / 1000.0, 1),
        "chemistry": "NMC811/graphite",
        "cells_series": ns,
        "cells_parallel": npar,
        "cell_min_voltage_v": CELL_VMIN,
        "cell_max_voltage_v": CELL_VMAX,
    }


def bms_c_limit(c_peak, T):
    """Vehicle BMS charge-rate limit vs cell temperature (parametric lithium-plating guard)."""
    if T < 20.0:
        f = max(0.3, 0.3 + 0.7 * T / 20.0)
    elif T > 38.0:
        f = 0.8
    else:
        f = 1.0
    return c_peak * f


def ambient_c(t: dt.datetime, rng) -> float:
    doy = t.timetuple().tm_yday
    seasonal = 10.0 - 11.0 * math.cos(2 * math.pi * (doy - 15) / 365.0)
    diurnal = 3.0 * math.sin(2 * math.pi * (t.hour - 9) / 24.0)
    return seasonal + diurnal + rng.normal(0, 3.0)


class Fleet:
    def __init__(self, grid: CellGrid, seed: int, n_vehicles: int, days: int):
        self.g = grid
        self.seed = seed
        self.days = days
        self.t_end = YEAR0 + dt.timedelta(days=days)
        ss = np.random.SeedSequence([20250101, seed])
        r_veh, r_chg, r_ses, r_sim = (np.random.default_rng(s) for s in ss.spawn(4))
        self.rng_sim = r_sim
        self.rng_ses = r_ses
        self.chargers = self._make_chargers(r_chg)
        self.vehicles = self._make_vehicles(r_veh, n_vehicles)

    # ---------------- chargers
    def _make_chargers(self, rng):
        n = len(CHARGER_TYPES)
        faulty = set(rng.choice(n, size=2, replace=False).tolist())
        out = []
        for k, (pkw, imax) in enumerate(CHARGER_TYPES):
            gi = float(np.clip(rng.normal(0, 0.0012), -0.003, 0.003))
            gv = float(np.clip(rng.normal(0, 0.0012), -0.003, 0.003))
            if k in faulty:
                gi = float(rng.choice([-1, 1]) * rng.uniform(0.03, 0.06))
            out.append(dict(
                charger_id=f"HF-DC{k + 1:02d}", max_power_kw=pkw, max_current_a=imax,
                current_gain=1.0 + gi, voltage_gain=1.0 + gv, faulty=k in faulty,
                efficiency=float(rng.uniform(0.92, 0.96)), standby_w=float(rng.uniform(50, 200)),
                cable_mohm=float(rng.uniform(5, 20)), loss_rate=float(rng.uniform(0.01, 0.03)),
                register_wh=float(rng.uniform(0.5e6, 2.0e7)), last_t=YEAR0,
            ))
        return out

    # ---------------- vehicles and their (true) ageing paths
    def _make_vehicles(self, rng, n):
        nf = lambda k: max(1, round(k * n / 60)) if n >= 5 else 0  # noqa: E731
        kinds = (["capacity_step"] * nf(6) + ["resistance_jump"] * nf(6) + ["soc_calibration"] * nf(6)
                 + ["below_80"] * nf(3))
        kinds = kinds[:n] + ["healthy"] * max(0, n - len(kinds))
        kinds = [kinds[i] for i in rng.permutation(n)]
        vehicles = []
        for v in range(n):
            mi = v % len(MODELS)
            name, ns, npar, pmax = MODELS[mi]
            kind = kinds[v]
            vin = "WV9" + "HF" + "".join(rng.choice(list(VIN_CHARS), size=12))
            age0 = float(rng.uniform(4.0, 6.0) if kind == "below_80" else rng.uniform(0.0, 6.0))
            first_reg = (YEAR0 - dt.timedelta(days=age0 * 365.25)).date()
            veh = dict(
                idx=v, vehicle_id=vin, model=name, ns=ns, np=npar, pmax_kw=pmax,
                label=f"Fleet {name.split()[1]} {v + 1:02d}", first_registration=first_reg,
                id_tag=f"HF{int(rng.integers(0, 2**48)):012X}", kind=kind, faults=[],
                c_peak=pmax * 1000.0 / (CELL_NOMINAL_V * ns) / (npar * CELL_NOMINAL_AH),
                k_fade=float(rng.uniform(1.2, 5.5)),  # SoH points per sqrt(year)
                k_res=float(rng.uniform(1.2, 2.5)),  # resistance growth per unit capacity fade
                bms_sigma=float(rng.uniform(0.2, 0.8)),  # healthy BMS SoC error, percent points
                home=rng.choice(len(self.chargers), size=int(rng.integers(3, 7)), replace=False).tolist(),
                rate=float(np.clip(rng.gamma(6.0, 25.0 / 6.0), 6, 60)),  # sessions per year
            )
            age_end = age0 + self.days / 365.25
            if kind == "below_80":
                soh0 = float(rng.uniform(75.5, 79.0))
                veh["k_fade"] = (100.0 - soh0) / math.sqrt(age0)
                veh["k_res"] = float(rng.uniform(1.8, 2.6))
            else:
                # healthy fade lands between ~85 and ~99 % at the end of the year
                veh["k_fade"] = min(veh["k_fade"], 14.5 / math.sqrt(max(age_end, 1e-3)))
            onset_frac = float(rng.uniform(0.2, 0.8))
            onset = YEAR0 + dt.timedelta(days=onset_frac * self.days)
            if kind == "capacity_step":
                veh["faults"].append(dict(type="capacity_step", date=iso(onset),
                                          drop_soh_points=round(float(rng.uniform(3, 8)), 2)))
            elif kind == "resistance_jump":
                veh["faults"].append(dict(type="resistance_jump", date=iso(onset),
                                          factor=round(float(rng.uniform(1.4, 2.0)), 3)))
            elif kind == "soc_calibration":
                if rng.random() < 0.5:
                    k = float(rng.choice([-1, 1]) * rng.uniform(0.04, 0.10))
                    veh["faults"].append(dict(type="soc_calibration", mode="scale", date=iso(YEAR0 + dt.timedelta(
                        days=float(rng.uniform(0.0, 0.4)) * self.days)), scale=round(1.0 + k, 4)))
                else:
                    b = float(rng.choice([-1, 1]) * rng.uniform(4.0, 10.0))
                    veh["faults"].append(dict(type="soc_calibration", mode="drift", date=iso(onset),
                                              bias_points_per_year=round(b / ((1.0 - onset_frac) * self.days / 365.25), 3)))
            elif kind == "below_80":
                veh["faults"].append(dict(type="below_80", date=iso(YEAR0)))
            veh["age0"] = age0
            vehicles.append(veh)
        return vehicles

    def true_state(self, veh, t: dt.datetime):
        """(a, rc, soh, r_ratio) of the vehicle's cells at time t."""
        age = veh["age0"] + (t - YEAR0).total_seconds() / (365.25 * 86400)
        soh_target = 100.0 - veh["k_fade"] * math.sqrt(max(age, 0.0))
        ratio = 1.0 + veh["k_res"] * (100.0 - soh_target) / 100.0
        for f in veh["faults"]:
            ft = dt.datetime.fromisoformat(f["date"].replace("Z", "+00:00"))
            if t >= ft and f["type"] == "capacity_step":
                soh_target -= f["drop_soh_points"]
            if t >= ft and f["type"] == "resistance_jump":
                ratio *= f["factor"]
        # physical state: rc from the ratio at the current a, then a from the SoH at that rc
        a = self.g.a_for_soh(soh_target, 0.0)
        for _ in range(3):
            rc = self.g.rc_for_ratio(ratio, a)
            a = self.g.a_for_soh(soh_target, rc)
        return a, rc, self.g.soh(a, rc), self.g.r_ratio(a, rc)

    def bms_soc(self, veh, t, s_true, sess_off):
        x = 100.0 * s_true
        for f in veh["faults"]:
            if f["type"] != "soc_calibration":
                continue
            ft = dt.datetime.fromisoformat(f["date"].replace("Z", "+00:00"))
            if t < ft:
                continue
            if f["mode"] == "scale":
                x = x * f["scale"]
            else:
                x = x + f["bias_points_per_year"] * (t - ft).total_seconds() / (365.25 * 86400)
        return int(min(100, max(0, round(x + sess_off))))

    # ---------------- session plan
    def plan(self):
        rng = self.rng_ses
        reqs = []
        for veh in self.vehicles:
            n = max(2, int(rng.poisson(veh["rate"] * self.days / 365.0)))
            days = np.sort(rng.uniform(0, self.days - 0.2, size=n))
            last = -10.0
            for d in days:
                d = max(d, last + 0.75)
                if d >= self.days - 0.2:
                    break
                hour = float(rng.choice([7.5, 12.5, 17.5], p=[0.3, 0.3, 0.4]) + rng.normal(0, 2.0))
                t = YEAR0 + dt.timedelta(days=math.floor(d), hours=min(max(hour, 5.0), 22.0))
                if reqs and reqs[-1][1] is veh and t <= reqs[-1][0] + dt.timedelta(hours=8):
                    continue
                reqs.append((t, veh))
                last = d
        reqs.sort(key=lambda r: (r[0], r[1]["idx"]))
        return reqs

    # ---------------- one session
    def simulate_session(self, sid, veh, chg, t_start, rng):
        g = self.g
        a, rc, soh, rr = self.true_state(veh, t_start)
        cell = g.tables(a, rc)
        ns, npar = veh["ns"], veh["np"]
        # conditions
        t_amb = ambient_c(t_start, rng)
        T0 = float(np.clip(t_amb + rng.uniform(2.0, 12.0), 0.0, 38.0))
        s_start = float(np.clip(rng.beta(2.0, 3.0) * 0.55 + 0.05, 0.05, 0.60))
        target = int(rng.choice([80, 85, 90, 100, -1], p=[0.35, 0.15, 0.15, 0.15, 0.20]))
        if target < 0:
            target = int(rng.integers(70, 101))
        t_budget = float(rng.uniform(15, 60)) * 60 if rng.random() < 0.3 else 4 * 3600.0
        p_veh = veh["pmax_kw"] * 1000.0
        p_max = min(chg["max_power_kw"] * 1000.0, p_veh)
        i_ch_max = chg["max_current_a"]
        v_nom = CELL_NOMINAL_V * ns
        c0 = min(bms_c_limit(veh["c_peak"], T0), min(p_max / v_nom, i_ch_max) / (npar * CELL_NOMINAL_AH))
        c0 = float(np.clip(c0, g.C[0], g.C[-1]))
        # thermal: first-order approach to a target set by Joule heat, heater, and cooling
        heat = float(rng.uniform(4.0, 12.0)) if T0 < 10.0 else 0.0
        T_inf = min(T0 + 1.5 + 3.0 * c0 ** 2 + heat, max(T0, 38.0))
        tau_T = float(rng.uniform(1200, 2400))
        # auxiliary load (W): BMS/pumps + cabin/battery heating or cooling
        if t_amb < 12.0:
            aux_mean = 300.0 + min(4500.0, (12.0 - t_amb) * rng.uniform(200.0, 380.0))
        elif t_amb > 24.0 or T0 > 32.0:
            aux_mean = 300.0 + rng.uniform(800.0, 2500.0) * (0.5 + 0.5 * c0 / 2.0)
        else:
            aux_mean = float(rng.uniform(250.0, 700.0))
        aux = aux_mean
        # charger-side disturbances
        dips = []
        if rng.random() < 0.12:
            for _ in range(int(rng.integers(1, 3))):
                t0 = float(rng.uniform(120, 2400))
                dips.append((t0, t0 + rng.uniform(3, 15) * 60, float(rng.uniform(0.25, 0.6)) * p_max))
        outages = []
        if rng.random() < 0.05:
            t0 = float(rng.uniform(60, 1800))
            outages.append((t0, t0 + rng.uniform(2, 15) * 60))
        sess_off = float(rng.normal(0, veh["bms_sigma"]))
        t_sensor_off = float(rng.uniform(-0.5, 0.5))
        precharge = float(rng.uniform(20, 60))
        ramp = float(rng.uniform(20, 60))
        w_fresh = float(np.clip((s_start - GRID["s0"]) / (GRID["s0_fresh"] - GRID["s0"]), 0.0, 1.0))
        r_cable = chg["cable_mohm"] / 1000.0
        eta, standby = chg["efficiency"], chg["standby_w"]
        # meter: standby since the charger's last activity
        chg["register_wh"] += standby * (t_start - chg["last_t"]).total_seconds() / 3600.0
        meter_start = chg["register_wh"]

        dt_s = 10.0
        s = s_start
        t = 0.0
        v_pack = ns * cell.at(T0, s, c0, 0.0, w_fresh)[1](0.0)
        i_ch = 0.0
        samples = []
        e_pack = e_aux = ah_pack = 0.0
        temps = []
        stop_reason = None
        q_ocv = cell.q_ocv
        while True:
            T = T0 + (T_inf - T0) * (1 - math.exp(-t / tau_T))
            aux = float(np.clip(aux + 0.15 * (aux_mean - aux) + rng.normal(0, 0.04 * aux_mean), 250.0, 5000.0))
            p_lim = p_max
            for d0, d1, pl in dips:
                if d0 <= t < d1:
                    p_lim = min(p_lim, pl)
            I_env, volt = cell.at(T, s, c0, s - s_start, w_fresh)
            i_pack_req = npar * min(I_env, bms_c_limit(veh["c_peak"], T) * CELL_NOMINAL_AH)
            if t < precharge:
                cap = 0.0
            else:
                cap = i_ch_max * min(1.0, (t - precharge) / ramp)
            v_cell = v_pack / ns
            for _ in range(3):
                i_aux = aux / max(v_pack, 1.0)
                v_ch = v_pack + i_ch * r_cable
                i_ch = max(0.0, min(i_pack_req + i_aux, cap, p_lim / max(v_ch, 1.0)))
                i_pack = i_ch - i_aux
                v_cell = volt(i_pack / npar)
                v_pack = ns * v_cell
            v_ch = v_pack + i_ch * r_cable
            p_dc = v_ch * i_ch
            p_ac = p_dc / eta + standby
            # sample at the start of each 30 s slot (instantaneous values)
            if t > 0 and int(round(t)) % 30 == 0:
                soc_rep = self.bms_soc(veh, t_start + dt.timedelta(seconds=t), s, sess_off)
                samples.append((t, chg["register_wh"], p_ac, i_ch, v_ch, soc_rep, T))
                if soc_rep >= target and t > precharge + ramp:
                    stop_reason = "soc_target"
                elif t >= t_budget and soc_rep >= 70:
                    stop_reason = "driver"
                elif t > precharge + ramp and I_env < g.cv_cut_a * 1.0001:
                    stop_reason = "full"
                elif t > 4 * 3600:
                    stop_reason = "timeout"
                if stop_reason:
                    break
            # integrate
            s += (i_pack / npar) * dt_s / 3600.0 / q_ocv
            chg["register_wh"] += p_ac * dt_s / 3600.0
            e_pack += v_pack * i_pack * dt_s / 3600.0
            e_aux += aux * dt_s / 3600.0
            ah_pack += i_pack * dt_s / 3600.0
            temps.append(T)
            t += dt_s
        # stop a few seconds after the last sample
        t_stop_extra = float(rng.uniform(2, 20))
        chg["register_wh"] += standby * t_stop_extra / 3600.0
        t_stop = t_start + dt.timedelta(seconds=t + t_stop_extra)
        chg["last_t"] = t_stop
        meter_stop = chg["register_wh"]

        # reported samples: sensor gains, noise, defects
        out = []
        for (ts, reg, pac, ich, vch, soc_rep, T) in samples:
            if any(o0 <= ts < o1 for o0, o1 in outages):
                continue
            if rng.random() < chg["loss_rate"]:
                continue
            cur = ich * chg["current_gain"] + rng.normal(0, 0.15)
            vol = vch * chg["voltage_gain"] + rng.normal(0, 0.15)
            temp = T + t_sensor_off + float(np.clip(rng.normal(0, 0.3), -0.5, 0.5))
            out.append({
                "timestamp": iso(t_start + dt.timedelta(seconds=ts)),
                "values": [
                    {"measurand": "Energy.Active.Import.Register", "value": f"{reg:.0f}", "unit": "Wh", "location": "Outlet"},
                    {"measurand": "Power.Active.Import", "value": f"{pac:.0f}", "unit": "W", "location": "Outlet"},
                    {"measurand": "Current.Import", "value": f"{max(cur, 0.0):.1f}", "unit": "A", "location": "Outlet"},
                    {"measurand": "Voltage", "value": f"{vol:.1f}", "unit": "V", "location": "Outlet"},
                    {"measurand": "SoC", "value": f"{soc_rep:d}", "unit": "Percent", "location": "EV"},
                    {"measurand": "Temperature", "value": f"{temp:.1f}", "unit": "Celsius", "location": "EV"},
                ],
            })
        session = {
            "session_id": sid, "vehicle_id": veh["vehicle_id"], "charger_id": chg["charger_id"],
            "connector_id": 1, "id_tag": veh["id_tag"], "start": iso(t_start), "stop": iso(t_stop),
            "meter_start_wh": int(round(meter_start)), "meter_stop_wh": int(round(meter_stop)), "samples": out,
        }
        truth = {
            "session_id": sid, "start": iso(t_start), "charger_id": chg["charger_id"],
            "soh_pct": round(soh, 3), "capacity_ah_pack": round(g.capacity_ah(a, rc) * npar, 3),
            "resistance_ratio": round(rr, 4), "ageing_a": round(a, 5), "extra_cell_resistance_ohm": round(rc, 5),
            "soc_true_start": round(100 * s_start, 2), "soc_true_end": round(100 * s, 2),
            "pack_ah_in": round(ah_pack, 3), "pack_energy_in_wh": round(e_pack, 1), "aux_energy_wh": round(e_aux, 1),
            "cell_temp_mean_c": round(float(np.mean(temps)) if temps else T0, 2), "ambient_c": round(t_amb, 1),
            "c_rate_cc": round(c0, 3), "stop_reason": stop_reason, "samples_total": len(samples),
            "samples_reported": len(out), "power_dips": len(dips), "outage": bool(outages),
        }
        return session, truth, t_stop

    def run(self, out_dir: Path, log=print):
        out_dir.mkdir(parents=True, exist_ok=True)
        reqs = self.plan()
        rng = self.rng_sim
        busy = {c["charger_id"]: YEAR0 for c in self.chargers}
        veh_busy = {v["vehicle_id"]: YEAR0 for v in self.vehicles}
        sessions, truths = [], {v["vehicle_id"]: [] for v in self.vehicles}
        sid = 0
        # process in order of start; a session that finds its chargers busy waits and is re-queued
        import heapq

        heap = [(t, v["idx"], k) for k, (t, v) in enumerate(reqs)]
        heapq.heapify(heap)
        while heap:
            t, vidx, k = heapq.heappop(heap)
            veh = self.vehicles[vidx]
            if t >= self.t_end:
                continue
            t = max(t, veh_busy[veh["vehicle_id"]] + dt.timedelta(minutes=30))
            home = [self.chargers[i] for i in veh["home"]]
            pool = home if rng.random() < 0.8 else self.chargers
            free = [c for c in pool if busy[c["charger_id"]] + dt.timedelta(minutes=2) <= t]
            if not free:
                free = [c for c in self.chargers if busy[c["charger_id"]] + dt.timedelta(minutes=2) <= t]
            if not free:
                nxt = min(busy.values()) + dt.timedelta(minutes=float(rng.uniform(2, 10)))
                heapq.heappush(heap, (nxt, vidx, k))
                continue
            chg = free[int(rng.integers(len(free)))]
            t = t + dt.timedelta(seconds=int(rng.integers(0, 60)))
            sid += 1
            s, tr, t_stop = self.simulate_session(sid, veh, chg, t, rng)
            busy[chg["charger_id"]] = t_stop
            veh_busy[veh["vehicle_id"]] = t_stop
            sessions.append(s)
            truths[veh["vehicle_id"]].append(tr)
        sessions.sort(key=lambda s: (s["start"], s["session_id"]))
        self._write(out_dir, sessions, truths)
        return sessions

    def _write(self, out_dir, sessions, truths):
        models = [{"model": n, "battery": model_battery(n, ns, npar)} for n, ns, npar, _ in MODELS]
        bat = {m["model"]: m["battery"] for m in models}
        vehicles = [{"vehicle_id": v["vehicle_id"], "model": v["model"], "label": v["label"],
                     "first_registration": v["first_registration"].isoformat(), "id_tag": v["id_tag"]}
                    for v in self.vehicles]
        (out_dir / "fleet.json").write_text(json.dumps({"models": models, "vehicles": vehicles}, indent=2) + "\n")
        cols = ["vehicle_id", "model", "label", "first_registration", "id_tag"] + list(models[0]["battery"].keys())
        with open(out_dir / "vehicles.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for v in vehicles:
                b = bat[v["model"]]
                w.writerow([v[c] for c in cols[:5]] + [b[c] for c in cols[5:]])
        chargers = {"site_id": "HF-SITE-01", "chargers": [
            {"charger_id": c["charger_id"], "connector_id": 1, "max_power_kw": c["max_power_kw"],
             "max_current_a": c["max_current_a"], "type": "DC"} for c in self.chargers]}
        (out_dir / "chargers.json").write_text(json.dumps(chargers, indent=2) + "\n")
        with open(out_dir / "sessions.jsonl", "w") as f:
            for s in sessions:
                f.write(json.dumps(s, separators=(",", ":")) + "\n")
        end = self.t_end
        tv = []
        for v in self.vehicles:
            a, rc, soh, rr = self.true_state(v, end)
            tv.append({
                "vehicle_id": v["vehicle_id"], "model": v["model"], "healthy": v["kind"] == "healthy",
                "faults": v["faults"], "first_registration": v["first_registration"].isoformat(),
                "soh_end_pct": round(soh, 3), "resistance_ratio_end": round(rr, 4),
                "capacity_ah_pack_end": round(self.g.capacity_ah(a, rc) * v["np"], 3),
                "sessions": truths[v["vehicle_id"]],
            })
        truth = {
            "seed": self.seed, "end": iso(end),
            "definitions": {
                "soh_pct": "C/20 CC-CV (to C/100) charge capacity at 25 C from 2.5 V OCV to 4.2 V, over the new cell's (PyBaMM DFN, OKane2022)",
                "resistance_ratio": "10 s 1C charge-pulse resistance at 50 % SoC, 25 C, over the new cell's",
                "new_cell_capacity_ah": round(self.g.q_new, 4), "new_cell_r10s_mohm": round(1000 * self.g.r_new, 3),
            },
            "models": [{"model": n, "cells_series": ns, "cells_parallel": npar, "vehicle_max_dc_kw": p,
                        "new_pack_capacity_ah": round(self.g.q_new * npar, 2)} for n, ns, npar, p in MODELS],
            "vehicles": tv,
            "chargers": [{k: c[k] for k in ("charger_id", "faulty", "current_gain", "voltage_gain", "efficiency",
                                            "standby_w", "cable_mohm", "loss_rate", "max_power_kw")}
                         for c in self.chargers],
        }
        (out_dir / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")


def summarize(out_dir: Path):
    """Truth summary (refused for seed 2, the held-out fleet)."""
    truth = json.loads((out_dir / "truth.json").read_text())
    if truth["seed"] == 2:
        sys.exit("refusing to summarise seed 2 truth (held-out fleet)")
    vs = truth["vehicles"]
    sess = [s for v in vs for s in v["sessions"]]
    soh_end = [v["soh_end_pct"] for v in vs]
    print(f"vehicles {len(vs)}, sessions {len(sess)}, samples reported {sum(s['samples_reported'] for s in sess)}")
    print(f"SoH end: min {min(soh_end):.1f} median {np.median(soh_end):.1f} max {max(soh_end):.1f}")
    print(f"SoH over sessions: min {min(s['soh_pct'] for s in sess):.1f} max {max(s['soh_pct'] for s in sess):.1f}")
    rr = [v["resistance_ratio_end"] for v in vs]
    print(f"resistance ratio end: min {min(rr):.2f} max {max(rr):.2f}")
    kinds = {}
    for v in vs:
        k = v["faults"][0]["type"] if v["faults"] else "healthy"
        kinds[k] = kinds.get(k, 0) + 1
    print("vehicles by label:", kinds)
    for v in vs:
        for f in v["faults"]:
            print(f"  {v['vehicle_id']} {v['model']:<20} {json.dumps(f)} soh_end={v['soh_end_pct']:.1f}")
    print("faulty chargers:", [(c["charger_id"], round(c["current_gain"], 4)) for c in truth["chargers"] if c["faulty"]])
    per = [len(v["sessions"]) for v in vs]
    print(f"sessions per vehicle: min {min(per)} mean {np.mean(per):.1f} max {max(per)}")
    print("stop reasons:", {r: sum(1 for s in sess if s["stop_reason"] == r) for r in {s["stop_reason"] for s in sess}})
    print(f"true SoC start {np.percentile([s['soc_true_start'] for s in sess], [0, 50, 100]).round(1)}, "
          f"end {np.percentile([s['soc_true_end'] for s in sess], [0, 50, 100]).round(1)}")
    print(f"cell temp mean {np.percentile([s['cell_temp_mean_c'] for s in sess], [0, 50, 100]).round(1)}, "
          f"CC C-rate {np.percentile([s['c_rate_cc'] for s in sess], [0, 50, 100]).round(2)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1, help="1 = tuning fleet, 2 = held-out fleet")
    ap.add_argument("--vehicles", type=int, default=60)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--out", type=Path, default=None, help="default target/health-fleet/seed<N>")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--build-cache", action="store_true", help="(re)build the PyBaMM grid and exit")
    ap.add_argument("--summary", action="store_true", help="print a truth summary (refused for seed 2)")
    args = ap.parse_args(argv)

    cf = cache_file(args.cache)
    if args.build_cache or not cf.exists():
        print(f"building PyBaMM grid cache -> {cf}", flush=True)
        build_cache(args.cache, log=lambda m: print(m, flush=True))
        if args.build_cache:
            return 0
    out = args.out or DEFAULT_OUT / f"seed{args.seed}"
    if args.summary and args.seed == 2:
        sys.exit("refusing to summarise seed 2 truth (held-out fleet)")
    t0, c0 = time.time(), time.process_time()
    grid = CellGrid(cf)
    fleet = Fleet(grid, args.seed, args.vehicles, args.days)
    fleet.run(out)
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    print(f"fleet seed {args.seed} -> {out} in {time.time() - t0:.1f} s wall, {time.process_time() - c0:.1f} s cpu")
    print("files: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()))
    if args.summary:
        summarize(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
