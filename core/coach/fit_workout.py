"""``.fit`` workout files (Garmin Edge/Forerunner, Wahoo, Hammerhead …) written with Garmin's own FIT SDK
(``garmin_fit_sdk.Encoder``), following Garmin's "Encoding Workout Files" cookbook:

- ``file_id`` (type workout) first, then one ``workout`` (sport cycling, ``num_valid_steps`` = every
  ``workout_step`` message, repeat steps included, as the cookbook counts them), then the steps;
- a step lasts ``duration_type`` time with ``duration_value`` in milliseconds; its target is ``power`` with
  ``custom_target_value_low/high`` in % FTP (FIT reads values ≤ 1000 as % FTP, above 1000 as watts + 1000), so
  the device applies the rider's FTP; a free ride has an ``open`` target;
- a repeat is a step with ``repeat_until_steps_cmplt``: ``duration_value`` is the index of the first repeated
  step and ``target_value`` the number of repetitions;
- a cadence cue is a secondary cadence target (± 5 rpm); the watts at the export day's FTP go in the notes.

Pure: bytes in memory.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from core.coach.devices import KIND_LABELS, clean_text, power_text
from core.coach.workouts import Item, Repeat, Step

_INTENSITY = {"warmup": "warmup", "cooldown": "cooldown", "work": "interval", "recovery": "recovery",
              "steady": "active", "ramp": "active", "free": "active"}
FIT_STRING_BYTES = 254  # a FIT string field holds at most 255 bytes with its NUL
FIT_NAME_BYTES = 40
CADENCE_BAND_RPM = 5


def fit_string(text, max_bytes: int) -> str:
    """Text cut to ``max_bytes`` of UTF-8 without splitting a character (NULs and controls already removed)."""
    value = clean_text(text, max_bytes, single_line=True)
    data = value.encode("utf-8")
    if len(data) <= max_bytes:
        return value
    return data[:max_bytes].decode("utf-8", "ignore").rstrip()


def _serial(key: str) -> int:
    """A stable, non-zero uint32 from the plan and workout (file type + manufacturer + product + serial number
    should identify a workout file on a device)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little") or 1


def _step_mesg(index: int, step: Step, ftp_w: float | None) -> dict:
    mesg = {"mesg_num": 27, "message_index": index,
            "wkt_step_name": fit_string(KIND_LABELS[step.kind].capitalize(), 16),
            "duration_type": "time", "duration_value": step.duration_s * 1000,
            "intensity": _INTENSITY[step.kind]}
    if step.kind == "free":
        mesg |= {"target_type": "open", "target_value": 0}
    else:
        low, high = sorted((step.power_low_pct, step.power_high_pct))
        mesg |= {"target_type": "power", "target_value": 0,
                 "custom_target_value_low": max(1, round(low)), "custom_target_value_high": max(1, round(high))}
    if step.cadence_rpm:
        mesg |= {"secondary_target_type": "cadence", "secondary_target_value": 0,
                 "secondary_custom_target_value_low": step.cadence_rpm - CADENCE_BAND_RPM,
                 "secondary_custom_target_value_high": step.cadence_rpm + CADENCE_BAND_RPM}
    notes = "; ".join(filter(None, [power_text(step, ftp_w) if ftp_w else "", step.text or ""]))
    if notes:
        mesg["notes"] = fit_string(notes, FIT_STRING_BYTES)
    return mesg


def step_messages(steps: list[Item], ftp_w: float | None = None) -> list[dict]:
    """``workout_step`` messages in order, repeats as Garmin's repeat steps."""
    out: list[dict] = []
    for item in steps:
        if isinstance(item, Repeat):
            first = len(out)
            for step in item.steps:
                out.append(_step_mesg(len(out), step, ftp_w))
            out.append({"mesg_num": 27, "message_index": len(out), "duration_type": "repeat_until_steps_cmplt",
                        "duration_value": first, "target_type": "open", "target_value": item.count})
        else:
            out.append(_step_mesg(len(out), item, ftp_w))
    return out


def fit_bytes(title: str, steps: list[Item], *, description: str = "", indoor: bool = False,
              ftp_w: float | None = None, created: datetime | None = None, serial_key: str | None = None) -> bytes:
    """A FIT workout file for ``steps``; ``created`` (default now) and ``serial_key`` make it reproducible."""
    from garmin_fit_sdk import Encoder, Profile

    created = created or datetime.now(UTC)
    messages = step_messages(steps, ftp_w)
    encoder = Encoder()
    encoder.write_mesg({"mesg_num": Profile["mesg_num"]["FILE_ID"], "type": "workout",
                        "manufacturer": "development", "product": 0, "time_created": created,
                        "serial_number": _serial(serial_key or title)})
    workout = {"mesg_num": Profile["mesg_num"]["WORKOUT"], "wkt_name": fit_string(title, FIT_NAME_BYTES) or "Workout",
               "sport": "cycling", "sub_sport": "indoor_cycling" if indoor else "generic",
               "num_valid_steps": len(messages)}
    about = fit_string(description, FIT_STRING_BYTES)
    if about:
        workout["wkt_description"] = about
    encoder.write_mesg(workout)
    for mesg in messages:
        encoder.write_mesg(mesg)
    return bytes(encoder.close())
