"""The power model in the database: the athlete's mean-maximal power over a window (SQL over ride_mmp), the fitted
model (core.rides.power), FTP proposals and what approving or dismissing one does, and recomputing past rides.

FTP changes: approving a proposal adds an FTP-history entry from its day (default today) and sets the profile's
FTP. Rides stored later, zones, TSS and planned-workout targets (kept in % FTP, resolved with the FTP of their
day when shown or exported) follow; rides already stored keep the FTP of their day until the rider recomputes them
(:func:`recompute_rides`, ``python -m core recompute --from DATE``).
"""

from __future__ import annotations

from datetime import date, timedelta

from core.athletes import ftp_by_day, ftp_on, get_athlete, set_ftp
from core.errors import ValidationError
from core.rides.power import Effort, PowerModel, Proposal, fit_power_model, proposal_for
from core.rides.store import CYCLING_TYPES, recompute_metrics, store_ride_mmp, streams_from_samples
from core.store.db import audit, bump_data_version, transaction

DEFAULT_WINDOW_DAYS = 90
MAX_WINDOW_DAYS = 3660
# GoldenCheetah's defaults when the athlete has no CP/W′ of their own (WPrime.cpp): W′ 20 kJ.
DEFAULT_W_PRIME_J = 20000.0


def ensure_ride_mmp(cur, athlete_id: int) -> int:
    """Compute the MMP rows of rides with power that have none yet (rides stored before migration 005).
    Returns how many rides were filled."""
    ids = [r[0] for r in cur.execute(
        "SELECT id FROM rides r WHERE athlete_id = ? AND duplicate_of IS NULL AND max_power_w > 0 "
        "AND NOT EXISTS (SELECT 1 FROM ride_mmp m WHERE m.ride_id = r.id) ORDER BY id", [athlete_id]).fetchall()]
    if not ids:
        return 0
    gap_method = (get_athlete(cur, athlete_id)["preferences"] or {}).get("gap_method", "pauses")
    with transaction(cur):
        for ride_id in ids:
            store_ride_mmp(cur, ride_id, streams_from_samples(cur, ride_id), gap_method)
    return len(ids)


def default_window(cur, athlete_id: int, days: int = DEFAULT_WINDOW_DAYS, today: date | None = None
                   ) -> tuple[date, date]:
    """The ``days`` up to the athlete's latest ride (today when there is none or it is later than today)."""
    today = today or date.today()
    latest = cur.execute(
        "SELECT max(CAST(started_at AS DATE)) FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL "
        "AND list_contains(?, sport_type) AND max_power_w > 0", [athlete_id, list(CYCLING_TYPES)]).fetchone()[0]
    end = min(latest, today) if latest else today
    return end - timedelta(days=days - 1), end


def check_window(date_from: date | None, date_to: date | None, days: int | None) -> None:
    if days is not None and not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValidationError(f"The window must be 1 to {MAX_WINDOW_DAYS} days long (got {days})")
    if (date_from is None) != (date_to is None):
        raise ValidationError("Give both ends of the date range (from and to)")
    if date_from and date_to:
        if date_to < date_from:
            raise ValidationError(f"The range ends ({date_to}) before it starts ({date_from})")
        if (date_to - date_from).days >= MAX_WINDOW_DAYS:
            raise ValidationError(f"The date range must be at most {MAX_WINDOW_DAYS} days long")


def window_mmp(cur, athlete_id: int, date_from: date, date_to: date) -> list[Effort]:
    """For each duration, the best effort of the athlete's cycling rides between the two days (inclusive) and
    the ride it comes from (on a tie, the most recent ride)."""
    rows = cur.execute(
        "SELECT duration_s, power_w, ride_id, day, start_s, floor_w FROM ("
        " SELECT m.duration_s, m.power_w, m.ride_id, CAST(r.started_at AS DATE) AS day, m.start_s, m.floor_w,"
        " row_number() OVER (PARTITION BY m.duration_s ORDER BY m.power_w DESC, r.started_at DESC, r.id DESC) AS k"
        " FROM ride_mmp m JOIN rides r ON r.id = m.ride_id"
        " WHERE r.athlete_id = ? AND r.duplicate_of IS NULL AND list_contains(?, r.sport_type)"
        " AND CAST(r.started_at AS DATE) BETWEEN ? AND ?) WHERE k = 1 ORDER BY duration_s",
        [athlete_id, list(CYCLING_TYPES), date_from, date_to]).fetchall()
    return [Effort(int(d), float(p), int(r), day, int(s), None if f is None else float(f))
            for d, p, r, day, s, f in rows]


def fit_window(cur, athlete_id: int, date_from: date, date_to: date) -> tuple[PowerModel, list[Effort]]:
    mmp = window_mmp(cur, athlete_id, date_from, date_to)
    return fit_power_model(mmp, ftp_by_day(cur, athlete_id)), mmp


def _dismissed(cur, athlete_id: int, proposal: Proposal) -> date | None:
    """When the rider dismissed a proposal built on the same (or newer) evidence, the day they did."""
    row = cur.execute(
        "SELECT CAST(max(decided_at) AS DATE) FROM ftp_proposals WHERE athlete_id = ? AND status = 'dismissed' "
        "AND evidence_date >= ?", [athlete_id, proposal.evidence_day or date.min]).fetchone()
    return row[0] if row else None


def current_proposal(cur, athlete_id: int, today: date | None = None) -> tuple[Proposal | None, str, PowerModel]:
    """The proposal for the last 90 days up to today (None with the reason when there is none)."""
    today = today or date.today()
    date_from, date_to = today - timedelta(days=DEFAULT_WINDOW_DAYS - 1), today
    model, _ = fit_window(cur, athlete_id, date_from, date_to)
    proposal, note = proposal_for(model, ftp_on(cur, athlete_id, today), today)
    if proposal is not None:
        dismissed = _dismissed(cur, athlete_id, proposal)
        if dismissed:
            return None, (f"you dismissed the proposal of {proposal.proposed_ftp_w} W on {dismissed}; it comes back "
                          "with a newer maximal effort"), model
    return proposal, note, model


def power_report(cur, athlete_id: int, *, days: int | None = None, date_from: date | None = None,
                 date_to: date | None = None, today: date | None = None) -> dict:
    """What ``python -m core power --json`` prints and the Power page shows (read-only)."""
    check_window(date_from, date_to, days)
    today = today or date.today()
    if date_from is None:
        date_from, date_to = default_window(cur, athlete_id, days or DEFAULT_WINDOW_DAYS, today)
    model, mmp = fit_window(cur, athlete_id, date_from, date_to)
    proposal, note, _ = current_proposal(cur, athlete_id, today)

    def rounded(value, digits=1):
        return None if value is None else round(value, digits)

    return {
        "date_from": date_from, "date_to": date_to, "window_days": (date_to - date_from).days + 1,
        "cp_w": rounded(model.cp_w), "w_prime_j": rounded(model.w_prime_j, 0), "eftp_w": rounded(model.eftp_w),
        "pmax_w": rounded(model.pmax_w), "model": ("morton_3p" if model.morton_3p else "cp_2p") if model.ok else None,
        "rmse_w": rounded(model.rmse_w, 2), "ftp_w": ftp_on(cur, athlete_id, today),
        "mmp": [e.as_dict() for e in mmp], "maximal_efforts": [e.as_dict() for e in model.maximal],
        "missing_efforts": model.missing, "problems": model.problems,
        "proposal": proposal.as_dict() if proposal else None, "proposal_note": note,
    }


def _decide(cur, athlete_id: int, status: str, proposal: Proposal, model: PowerModel,
            effective_from: date | None) -> int:
    return cur.execute(
        "INSERT INTO ftp_proposals (athlete_id, status, current_ftp_w, proposed_ftp_w, cp_w, w_prime_j, "
        "evidence_date, effective_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [athlete_id, status, proposal.current_ftp_w, proposal.proposed_ftp_w, model.cp_w, model.w_prime_j,
         proposal.evidence_day, effective_from]).fetchone()[0]


def _open_proposal(cur, athlete_id: int, today: date, expected_ftp_w: float | None):
    proposal, note, model = current_proposal(cur, athlete_id, today)
    if proposal is None:
        raise ValidationError(f"There is no FTP proposal to decide on: {note}.")
    if expected_ftp_w is not None and round(expected_ftp_w) != proposal.proposed_ftp_w:
        raise ValidationError(f"The proposal changed to {proposal.proposed_ftp_w} W since it was shown; "
                              "review it again.")
    return proposal, model


def approve_proposal(cur, athlete_id: int, *, today: date | None = None, effective_from: date | None = None,
                     expected_ftp_w: float | None = None) -> dict:
    """Apply the current proposal: an FTP-history entry from ``effective_from`` (default today) and the profile's
    FTP. Past rides keep their figures (see the module docstring)."""
    today = today or date.today()
    effective_from = effective_from or today
    if effective_from > today:
        raise ValidationError("An approved FTP cannot start in the future")
    with transaction(cur):
        proposal, model = _open_proposal(cur, athlete_id, today, expected_ftp_w)
        set_ftp(cur, athlete_id, float(proposal.proposed_ftp_w), effective_from, today=today)
        proposal_id = _decide(cur, athlete_id, "approved", proposal, model, effective_from)
        audit(cur, "approve", "ftp_proposal", proposal_id, athlete_id, ftp_w=proposal.proposed_ftp_w,
              effective_from=effective_from)
        bump_data_version(cur)
    stale = cur.execute("SELECT count(*) FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL "
                        "AND CAST(started_at AS DATE) >= ?", [athlete_id, effective_from]).fetchone()[0]
    return {"id": proposal_id, "ftp_w": proposal.proposed_ftp_w, "previous_ftp_w": proposal.current_ftp_w,
            "effective_from": effective_from, "rides_to_recompute": stale}


def dismiss_proposal(cur, athlete_id: int, *, today: date | None = None, expected_ftp_w: float | None = None
                     ) -> dict:
    """Hide the current proposal until a newer maximal effort arrives; the FTP is unchanged."""
    today = today or date.today()
    with transaction(cur):
        proposal, model = _open_proposal(cur, athlete_id, today, expected_ftp_w)
        proposal_id = _decide(cur, athlete_id, "dismissed", proposal, model, None)
        audit(cur, "dismiss", "ftp_proposal", proposal_id, athlete_id, ftp_w=proposal.proposed_ftp_w)
        bump_data_version(cur)
    return {"id": proposal_id, "dismissed_ftp_w": proposal.proposed_ftp_w, "ftp_w": proposal.current_ftp_w}


def recompute_rides(cur, athlete_id: int, date_from: date, date_to: date | None = None) -> int:
    """Recompute every figure of the athlete's rides between the two days with the FTP of each ride's day.
    Returns the number of rides updated."""
    if date_to is not None and date_to < date_from:
        raise ValidationError(f"--to {date_to} is before --from {date_from}")
    ids = [r[0] for r in cur.execute(
        "SELECT id FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND CAST(started_at AS DATE) >= ? "
        "AND (? IS NULL OR CAST(started_at AS DATE) <= ?) ORDER BY started_at",
        [athlete_id, date_from, date_to, date_to]).fetchall()]
    return recompute_metrics(cur, athlete_id, ids) if ids else 0


def ride_w_prime(cur, athlete_id: int, day: date | None) -> dict:
    """CP and W′ for a ride's W′ balance: the model of the 90 days up to the ride when it fits, else CP = the FTP
    of that day and W′ = 20 kJ (GoldenCheetah's defaults without a CP model). ``source`` says which."""
    day = day or date.today()
    model, _ = fit_window(cur, athlete_id, day - timedelta(days=DEFAULT_WINDOW_DAYS - 1), day)
    if model.ok:
        return {"cp_w": model.cp_w, "w_prime_j": model.w_prime_j, "source": "model"}
    ftp = ftp_on(cur, athlete_id, day)
    if not ftp:
        return {"cp_w": None, "w_prime_j": None, "source": None}
    return {"cp_w": float(ftp), "w_prime_j": DEFAULT_W_PRIME_J, "source": "ftp"}
