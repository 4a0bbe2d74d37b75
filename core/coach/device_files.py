"""Device files of a plan: the pure writers for Zwift/TrainerRoad ``.zwo`` and ERG-mode ``.mrc``/``.erg``
courses (``.fit`` is in ``fit_workout``), one file per riding workout, and ZIPs of a week or a whole plan.

``.zwo`` and ``.mrc`` keep targets in % FTP (the app applies the rider's FTP); ``.erg`` is in watts at the FTP
of the export day, written in its header. Pure: bytes in memory, no database, no files.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from core.coach.devices import MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, TYPE_LABELS, clean_text, planned_rides
from core.coach.fit_workout import fit_bytes
from core.coach.workouts import Item, Repeat, Step, flatten
from core.errors import ValidationError

DEVICE_FORMATS = ("zwo", "fit", "mrc", "erg")

# ----------------------------------------------------------------------------------------------------------------
# .zwo (Zwift, TrainerRoad, MyWhoosh …)
# ----------------------------------------------------------------------------------------------------------------
_ZWO_STEADY = ("steady", "work", "recovery")


def _frac(pct: float) -> str:
    return f"{pct / 100:.3f}".rstrip("0").rstrip(".") if pct else "0"


def _zwo_element(parent: ET.Element, step: Step) -> ET.Element:
    if step.kind == "free":
        el = ET.SubElement(parent, "FreeRide", Duration=str(step.duration_s), FlatRoad="0")
    elif step.kind in _ZWO_STEADY:
        el = ET.SubElement(parent, "SteadyState", Duration=str(step.duration_s), Power=_frac(step.mean_pct))
    else:  # Zwift ramps from PowerLow (start) to PowerHigh (end), cool-downs included
        tag = {"warmup": "Warmup", "cooldown": "Cooldown", "ramp": "Ramp"}[step.kind]
        el = ET.SubElement(parent, tag, Duration=str(step.duration_s), PowerLow=_frac(step.power_low_pct),
                           PowerHigh=_frac(step.power_high_pct))
    if step.cadence_rpm:
        el.set("Cadence", str(step.cadence_rpm))
    _zwo_cue(el, step)
    return el


def _zwo_cue(el: ET.Element, step: Step) -> None:
    if step.text:
        ET.SubElement(el, "textevent", timeoffset="0", message=clean_text(step.text, 200, single_line=True),
                      duration="10")


def zwo_bytes(title: str, steps: list[Item], *, description: str = "", tags: Iterable[str] = ()) -> bytes:
    """A Zwift workout file: power as fractions of FTP; a repeat of two steady steps becomes ``IntervalsT``,
    other repeats are written out step by step. Text goes through ElementTree, which escapes it."""
    root = ET.Element("workout_file")
    ET.SubElement(root, "author").text = "VeloCoach"
    ET.SubElement(root, "name").text = clean_text(title, MAX_NAME_CHARS, single_line=True) or "Workout"
    ET.SubElement(root, "description").text = clean_text(description, MAX_DESCRIPTION_CHARS)
    ET.SubElement(root, "sportType").text = "bike"
    tag_root = ET.SubElement(root, "tags")
    for tag in dict.fromkeys(clean_text(t, 30, single_line=True) for t in tags):
        if tag:
            ET.SubElement(tag_root, "tag", name=tag)
    body = ET.SubElement(root, "workout")
    for item in steps:
        if isinstance(item, Repeat) and len(item.steps) == 2 and all(s.kind in _ZWO_STEADY for s in item.steps):
            on, off = item.steps
            el = ET.SubElement(body, "IntervalsT", Repeat=str(item.count), OnDuration=str(on.duration_s),
                               OffDuration=str(off.duration_s), OnPower=_frac(on.mean_pct),
                               OffPower=_frac(off.mean_pct))
            if on.cadence_rpm:
                el.set("Cadence", str(on.cadence_rpm))
            if off.cadence_rpm:
                el.set("CadenceResting", str(off.cadence_rpm))
            _zwo_cue(el, on)
        else:
            for step in flatten([item]):
                _zwo_element(body, step)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


# ----------------------------------------------------------------------------------------------------------------
# .mrc / .erg (ERG-mode trainers: GoldenCheetah, PerfPRO, TrainerRoad, Wahoo …)
# ----------------------------------------------------------------------------------------------------------------
def _course_points(steps: list[Item]) -> list[tuple[float, float]]:
    """(minutes, % FTP) pairs: every step starts and ends with a point, so steps are flat and ramps linear.
    A free ride has no target; ERG files hold 50 % FTP there (the load assumed in workouts.Step.mean_pct)."""
    points, t = [], 0
    for step in flatten(steps):
        start = end = step.mean_pct
        if step.kind in ("warmup", "cooldown", "ramp"):
            start, end = step.power_low_pct, step.power_high_pct
        points.append((t / 60, start))
        t += step.duration_s
        points.append((t / 60, end))
    return points


def _course(title: str, stem: str, steps: list[Item], unit: str, value: Callable[[float], str],
            extra: list[str]) -> bytes:
    header = ["[COURSE HEADER]", "VERSION = 2", "UNITS = ENGLISH",
              f"DESCRIPTION = {clean_text(title, MAX_NAME_CHARS, single_line=True)}",
              f"FILE NAME = {stem}", *extra, f"MINUTES {unit}", "[END COURSE HEADER]", "[COURSE DATA]"]
    data = [f"{minutes:.2f}\t{value(pct)}" for minutes, pct in _course_points(steps)]
    return ("\r\n".join([*header, *data, "[END COURSE DATA]"]) + "\r\n").encode("ascii", "replace")


def mrc_bytes(title: str, stem: str, steps: list[Item]) -> bytes:
    """ERG course in % FTP (the trainer app applies the rider's FTP)."""
    return _course(title, stem, steps, "PERCENT", lambda pct: f"{pct:g}", [])


def erg_bytes(title: str, stem: str, steps: list[Item], ftp_w: float) -> bytes:
    """ERG course in watts at ``ftp_w`` (the FTP of the export day, written in the header)."""
    if not ftp_w or ftp_w <= 0:
        raise ValidationError("An .erg file needs an FTP: set yours in Settings (or export .mrc, in % FTP).")
    return _course(title, stem, steps, "WATTS", lambda pct: str(round(ftp_w * pct / 100)),
                   [f"FTP = {round(ftp_w)}"])



# ----------------------------------------------------------------------------------------------------------------
# One file per riding workout, and ZIPs
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceFile:
    name: str    # sanitised, e.g. 2027-03-04_threshold_2x20.zwo
    date: str    # YYYY-MM-DD
    type: str    # the planned workout type
    title: str
    data: bytes


def device_files(plan_row: dict, fmt: str, *, ftp_w: float | None, week: int | None = None,
                 created: datetime | None = None) -> list[DeviceFile]:
    """One file per riding workout of the plan (or of ``week``) in ``fmt`` (zwo, fit, mrc or erg)."""
    if fmt not in DEVICE_FORMATS:
        raise ValidationError(f"Unknown device format {fmt!r}: choose one of {', '.join(DEVICE_FORMATS)}.")
    out = []
    for ride in planned_rides(plan_row, week=week):
        name = f"{ride.date} {ride.title}"
        if fmt == "zwo":
            data = zwo_bytes(name, ride.steps, description=ride.description,
                             tags=["VeloCoach", TYPE_LABELS.get(ride.type, ride.type), ride.phase])
        elif fmt == "fit":
            data = fit_bytes(name, ride.steps, description=ride.description, indoor=ride.indoor, ftp_w=ftp_w,
                             created=created, serial_key=f"{plan_row.get('id')}:{ride.stem}")
        elif fmt == "mrc":
            data = mrc_bytes(name, ride.stem, ride.steps)
        else:
            data = erg_bytes(name, ride.stem, ride.steps, ftp_w or 0)
        out.append(DeviceFile(f"{ride.stem}.{fmt}", ride.date, ride.type, ride.title, data))
    return out


def zip_bytes(files: list[DeviceFile]) -> bytes:
    """The files in one ZIP (flat, names already sanitised; dates as the workouts' days, so a re-export of the
    same plan is byte-identical)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            day = date.fromisoformat(f.date)
            info = zipfile.ZipInfo(f.name, date_time=(max(1980, day.year), day.month, day.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, f.data)
    return buffer.getvalue()
