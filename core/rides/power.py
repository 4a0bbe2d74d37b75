"""The power-duration model, pure maths (no I/O): which efforts are maximal, the critical-power fit, eFTP, and
whether an FTP change should be proposed. Storage and the athlete's window live in core.rides.powerstore.

Model and fit (sources in docs/COACHING.md, "Power")
-----------------------------------------------------
* Mean-maximal power (MMP): for each duration of ``MMP_DURATIONS_S`` the best mean power of a ride over its
  timeline (pauses as 0 W, see core.rides.metrics); the window's MMP is the best of each duration over its rides.
* 2-parameter critical power (Monod & Scherrer 1965): P(t) = CP + W′/t, fitted by least squares on power (the
  objective of sweat's ``PowerDurationRegressor`` and GC's "least squares" fit) on the window's MMP between 2 and
  20 minutes (GC also truncates cp2 data at 1,200 s: longer efforts bend below the hyperbola).
* The envelope idea: only the best efforts describe the rider's limits. MMP points that lie more than
  ``SUBMAXIMAL_BELOW`` (2 %) under the fitted curve are parts of longer efforts or easy riding; they are dropped and
  the fit is repeated until no point changes side. The points left are the *maximal efforts*.
* When the profile has an FTP, an effort also has to reach ``MAXIMAL_SHARE`` (90 %) of the power that FTP predicts
  for its duration on GoldenCheetah's typical power-duration curve (Banister.cpp's power index: Morton 3-parameter,
  CP 261 W, W′ 15.5 kJ, Pmax 1,100 W, scaled to the FTP) — an endurance ride's best 5 minutes is not a test.
* No fit without maximal efforts of both 3–8 min and 10–20 min (one point cannot fix two parameters); the result
  names the missing ones. A fit is kept only if plausible: CP 50–600 W (the profile's FTP range), W′ 2–60 kJ.
* A best effort that is only a part of a longer best effort of the same ride at about the same power is not a
  maximal effort for its own duration (riding 5 min at 350 W only says the best 4 min is at least 350 W).
* An effort of 2 minutes or more counts only when sustained: its easiest minute is at least 70 % of its mean
  power. A window over intervals with recoveries, or a short effort padded with easy riding, is not maximal.
* Morton's 3-parameter model (1996), P(t) = CP + W′/(t + W′/(Pmax − CP)), is fitted the same way on the
  efforts from 1 s to 20 min when there are sprints (≤ 30 s). When it is plausible (1.5·CP < Pmax < 3,000 W, CP
  within 5 % of the 2-parameter CP) its CP, W′ and Pmax are the model's: the hyperbola alone reads a curved
  power-duration relation as a lower W′. Without sprints it is not used (Pmax would run to infinity).
* eFTP = the model's CP: GoldenCheetah sets FTP = CP for its CP2/CP3 models (AthletePages.cpp) — a model
  estimate, not a 60-minute test.

Proposals: a change when eFTP differs from the profile's FTP by more than 3 %; never a decrease unless both
maximal efforts are recent (``DECREASE_NEEDS_EFFORTS_WITHIN_DAYS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

MMP_DURATIONS_S = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540,
                   600, 720, 840, 960, 1080, 1200, 1500, 1800, 2400, 3600, 5400, 7200, 10800, 14400, 21600)
FIT_WINDOW_S = (120, 1200)
SHORT_EFFORT_S = (180, 480)
LONG_EFFORT_S = (600, 1200)
SUBMAXIMAL_BELOW = 0.02
SUSTAINED_SHARE = 0.70
FLOOR_WINDOW_S = 60
MAXIMAL_SHARE = 0.90
TYPICAL_CP_W, TYPICAL_W_PRIME_J, TYPICAL_PMAX_W = 261.0, 15500.0, 1100.0  # GC Banister.cpp power index
PLAUSIBLE_CP_W = (50.0, 600.0)  # the profile accepts FTP 50–600 W
PLAUSIBLE_W_PRIME_J = (2000.0, 60000.0)
PROPOSAL_THRESHOLD = 0.03
DECREASE_NEEDS_EFFORTS_WITHIN_DAYS = 42
MAX_FIT_ROUNDS = 50


@dataclass(frozen=True)
class Effort:
    """A best mean power over ``duration_s`` and where it comes from."""

    duration_s: int
    power_w: float
    ride_id: int | None = None
    day: date | None = None
    start_s: int | None = None
    floor_w: float | None = None   # the effort's easiest minute (None under two minutes)

    def as_dict(self) -> dict:
        return {"duration_s": self.duration_s, "power_w": round(self.power_w, 1), "ride_id": self.ride_id,
                "date": self.day.isoformat() if self.day else None, "start_s": self.start_s}


@dataclass
class PowerModel:
    """The fitted model, or the reasons there is none (``cp_w`` None)."""

    cp_w: float | None = None
    w_prime_j: float | None = None
    eftp_w: float | None = None
    pmax_w: float | None = None
    morton_3p: dict | None = None
    rmse_w: float | None = None
    maximal: list[Effort] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.cp_w is not None

    def power_at(self, seconds) -> np.ndarray:
        """The fitted curve: Morton's when Pmax is known (finite at 1 s), else the 2-parameter hyperbola."""
        t = np.asarray(seconds, dtype=np.float64)
        if self.morton_3p:
            m = self.morton_3p
            return morton3_power(t, m["cp_w"], m["w_prime_j"], m["pmax_w"])
        return cp2_power(t, self.cp_w, self.w_prime_j)


def cp2_power(t, cp_w: float, w_prime_j: float):
    return cp_w + w_prime_j / np.asarray(t, dtype=np.float64)


def morton3_power(t, cp_w: float, w_prime_j: float, pmax_w: float):
    return cp_w + w_prime_j / (np.asarray(t, dtype=np.float64) + w_prime_j / (pmax_w - cp_w))


def fit_cp2(durations_s, powers_w) -> tuple[float, float]:
    """Least squares on power of P = CP + W′/t (linear in CP and W′ with x = 1/t): (CP, W′)."""
    t = np.asarray(durations_s, dtype=np.float64)
    p = np.asarray(powers_w, dtype=np.float64)
    if len(t) < 2 or np.ptp(t) == 0:
        raise ValueError("two different durations are needed")
    design = np.column_stack([np.ones_like(t), 1.0 / t])
    (cp, w_prime), *_ = np.linalg.lstsq(design, p, rcond=None)
    return float(cp), float(w_prime)


def fit_morton3(durations_s, powers_w, start: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Least squares on power of Morton's 3-parameter model (SciPy, bounded): (CP, W′, Pmax)."""
    from scipy.optimize import curve_fit

    t = np.asarray(durations_s, dtype=np.float64)
    p = np.asarray(powers_w, dtype=np.float64)
    cp0, w0 = start or (float(p.min()), 20000.0)
    p0 = [cp0, max(w0, 1000.0), max(float(p.max()) * 1.1, cp0 * 1.6)]

    def model(x, cp, w_prime, pmax):
        return morton3_power(x, cp, w_prime, pmax)

    params, _ = curve_fit(model, t, p, p0=p0, bounds=([1.0, 1.0, 2.0], [3000.0, 500000.0, 1e5]), maxfev=5000)
    return float(params[0]), float(params[1]), float(params[2])


def expected_power(duration_s, ftp_w: float):
    """What an FTP predicts for a maximal effort of ``duration_s``: GC's typical curve scaled to the FTP."""
    return morton3_power(duration_s, TYPICAL_CP_W, TYPICAL_W_PRIME_J, TYPICAL_PMAX_W) * ftp_w / TYPICAL_CP_W


def distinct_efforts(efforts: list[Effort]) -> list[Effort]:
    """Drop a best effort that is only a part of a longer best effort of the same ride at about the same power
    (within SUBMAXIMAL_BELOW): riding 5 min at 350 W says the best 4 min is at least 350 W, not what it could be."""
    def inside(short: Effort, long: Effort) -> bool:
        return (long.duration_s > short.duration_s and long.ride_id == short.ride_id and short.ride_id is not None
                and short.start_s is not None and long.start_s is not None and long.start_s <= short.start_s
                and short.start_s + short.duration_s <= long.start_s + long.duration_s
                and short.power_w <= long.power_w * (1 + SUBMAXIMAL_BELOW))

    return [e for e in efforts if not any(inside(e, other) for other in efforts)]


def effort_floors(timeline, best: dict[int, tuple[float, int]]) -> dict[int, float]:
    """For each best effort of at least two minutes, its lowest 60-second mean power (its easiest minute)."""
    p = np.nan_to_num(np.asarray(timeline, dtype=np.float64), nan=0.0)
    if len(p) < FLOOR_WINDOW_S:
        return {}
    csum = np.concatenate(([0.0], np.cumsum(p)))
    minute = (csum[FLOOR_WINDOW_S:] - csum[:-FLOOR_WINDOW_S]) / FLOOR_WINDOW_S
    return {d: float(minute[start:start + d - FLOOR_WINDOW_S + 1].min())
            for d, (_, start) in best.items() if d >= 2 * FLOOR_WINDOW_S}


def sustained(effort: Effort) -> bool:
    """An effort is sustained when its easiest minute is at least SUSTAINED_SHARE of its mean power: no recovery
    inside it (a 20-minute window over 5 × 4-minute intervals is not a 20-minute effort)."""
    return effort.floor_w is None or effort.floor_w >= SUSTAINED_SHARE * effort.power_w


def envelope_fit(efforts: list[Effort]) -> tuple[float, float, list[Effort]]:
    """Fit the 2-parameter model, drop points more than SUBMAXIMAL_BELOW under the curve, repeat until stable.
    Returns (CP, W′, the efforts on the curve)."""
    kept = list(efforts)
    for _ in range(MAX_FIT_ROUNDS):
        cp, w_prime = fit_cp2([e.duration_s for e in kept], [e.power_w for e in kept])
        curve = cp2_power([e.duration_s for e in efforts], cp, w_prime)
        on_curve = [e for e, c in zip(efforts, curve, strict=True) if e.power_w >= c * (1 - SUBMAXIMAL_BELOW)]
        if len({e.duration_s for e in on_curve}) < 2 or on_curve == kept:
            break
        kept = on_curve
    return cp, w_prime, kept


def _band(efforts: list[Effort], band: tuple[int, int]) -> list[Effort]:
    return [e for e in efforts if band[0] <= e.duration_s <= band[1]]


def _describe_band(band: tuple[int, int]) -> str:
    return f"a maximal effort of {band[0] // 60}–{band[1] // 60} min"


def fit_power_model(mmp: list[Effort], ftp_on=None) -> PowerModel:
    """The model from a window's MMP (module docstring). ``ftp_on(day)`` gives the profile's FTP on a day (or
    None); without it efforts are judged by the shape of the curve alone."""
    model = PowerModel()
    usable = [e for e in mmp if e.power_w > 0 and math.isfinite(e.power_w)]
    window = [e for e in usable if FIT_WINDOW_S[0] <= e.duration_s <= FIT_WINDOW_S[1]]

    def hard_enough(e: Effort) -> bool:
        ftp = ftp_on(e.day) if (ftp_on and e.day) else None
        return not ftp or e.power_w >= MAXIMAL_SHARE * float(expected_power(e.duration_s, ftp))

    candidates = [e for e in distinct_efforts(usable) if e in window and hard_enough(e) and sustained(e)]
    for band in (SHORT_EFFORT_S, LONG_EFFORT_S):
        if not _band(candidates, band):
            best = max(_band(window, band), key=lambda e: e.power_w, default=None)
            note = _describe_band(band)
            if best is not None:
                why = (f"is below {MAXIMAL_SHARE:.0%} of what your FTP predicts" if not hard_enough(best) else
                       "has easier minutes inside it" if not sustained(best) else "is part of a longer effort")
                note += (f" (your best, {best.power_w:.0f} W over {best.duration_s / 60:g} min on {best.day}, "
                         f"{why})")
            model.missing.append(note)
    if model.missing:
        return model
    cp, w_prime, maximal = envelope_fit(candidates)
    for band in (SHORT_EFFORT_S, LONG_EFFORT_S):
        if not _band(maximal, band):
            model.missing.append(_describe_band(band) + " on the same curve as your other best efforts")
    if model.missing:
        return model
    if not PLAUSIBLE_CP_W[0] <= cp <= PLAUSIBLE_CP_W[1]:
        model.problems.append(f"the fitted CP ({cp:.0f} W) is implausible")
    if not PLAUSIBLE_W_PRIME_J[0] <= w_prime <= PLAUSIBLE_W_PRIME_J[1]:
        model.problems.append(f"the fitted W′ ({w_prime / 1000:.1f} kJ) is implausible: the short and long efforts "
                              "do not look like maximal efforts of one rider")
    if model.problems:
        return model
    model.cp_w, model.w_prime_j = cp, w_prime
    model.maximal = sorted(maximal, key=lambda e: e.duration_s)
    model.morton_3p = _morton(distinct_efforts(usable), cp, w_prime, hard_enough)
    if model.morton_3p:  # Morton's curve explains the sprints too: its CP and W′ are the better estimate
        model.cp_w, model.w_prime_j = model.morton_3p["cp_w"], model.morton_3p["w_prime_j"]
        model.pmax_w = model.morton_3p["pmax_w"]
    model.eftp_w = model.cp_w
    residual = np.array([e.power_w for e in model.maximal]) - model.power_at([e.duration_s for e in model.maximal])
    model.rmse_w = float(np.sqrt(np.mean(residual ** 2)))
    return model


def _morton(usable: list[Effort], cp: float, w_prime: float, hard_enough) -> dict | None:
    """Morton's 3-parameter envelope fit on the hard-enough efforts of 1 s–20 min, when there are sprints (≤ 30 s)
    to fix Pmax; None when it does not converge or is implausible."""
    points = [e for e in usable if e.duration_s <= FIT_WINDOW_S[1] and hard_enough(e)]
    if len([e for e in points if e.duration_s <= 30]) < 2 or len(points) < 5:
        return None
    try:
        kept = points
        for _ in range(MAX_FIT_ROUNDS):
            cp3, w3, pmax = fit_morton3([e.duration_s for e in kept], [e.power_w for e in kept], (cp, w_prime))
            curve = morton3_power([e.duration_s for e in points], cp3, w3, pmax)
            on_curve = [e for e, c in zip(points, curve, strict=True) if e.power_w >= c * (1 - SUBMAXIMAL_BELOW)]
            if on_curve == kept or len(on_curve) < 5:
                break
            kept = on_curve
    except (RuntimeError, ValueError):
        return None
    if not (1.5 * cp3 < pmax < 3000.0 and PLAUSIBLE_W_PRIME_J[0] <= w3 <= PLAUSIBLE_W_PRIME_J[1]
            and abs(cp3 / cp - 1) < 0.05):
        return None
    return {"cp_w": cp3, "w_prime_j": w3, "pmax_w": pmax}


@dataclass
class Proposal:
    current_ftp_w: float | None
    proposed_ftp_w: int
    change_pct: float | None
    evidence_day: date | None

    def as_dict(self) -> dict:
        return {"current_ftp_w": self.current_ftp_w, "proposed_ftp_w": self.proposed_ftp_w,
                "change_pct": None if self.change_pct is None else round(self.change_pct, 1),
                "evidence_date": self.evidence_day.isoformat() if self.evidence_day else None}


def proposal_for(model: PowerModel, current_ftp_w: float | None, today: date) -> tuple[Proposal | None, str]:
    """(a proposal or None, why). Uses only efforts of the 90 days before ``today`` at most (the caller's window)."""
    if not model.ok:
        return None, "no fit: " + "; ".join(model.missing + model.problems)
    proposed = int(round(model.eftp_w))
    evidence = max((e.day for e in model.maximal if e.day), default=None)
    if current_ftp_w:
        change = (model.eftp_w / current_ftp_w - 1.0) * 100.0
        if abs(change) <= PROPOSAL_THRESHOLD * 100:
            return None, f"eFTP {model.eftp_w:.0f} W is within 3 % of your FTP ({current_ftp_w:.0f} W)"
        if change < 0:
            since = today - timedelta(days=DECREASE_NEEDS_EFFORTS_WITHIN_DAYS)
            recent = [e for e in model.maximal if e.day and e.day >= since]
            if not (_band(recent, SHORT_EFFORT_S) and _band(recent, LONG_EFFORT_S)):
                return None, (f"eFTP {model.eftp_w:.0f} W is lower than your FTP, but a decrease needs maximal "
                              f"efforts of 3–8 and 10–20 min in the last {DECREASE_NEEDS_EFFORTS_WITHIN_DAYS} days")
    else:
        change = None
    return Proposal(current_ftp_w, proposed, change, evidence), "proposed"
