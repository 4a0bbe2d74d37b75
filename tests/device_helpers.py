"""Readers the device-export tests judge files with: Garmin's FIT SDK decoder (each check on a fresh stream, as
``is_fit``/``check_integrity`` consume theirs), fit-tool as an independent second FIT reader, and ``.mrc``/
``.erg`` course parsing."""

from __future__ import annotations

from garmin_fit_sdk import Decoder, Stream


def decode_fit(data: bytes) -> tuple[dict, list]:
    """(messages, errors) from Garmin's SDK; asserts the file is FIT and its CRCs hold."""
    assert Decoder(Stream.from_byte_array(bytearray(data))).is_fit()
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
    return Decoder(Stream.from_byte_array(bytearray(data))).read()


def fit_tool_steps(data: bytes) -> tuple[dict, list[dict]]:
    """(workout, steps) as fit-tool reads them: the second opinion on every step's duration and target."""
    from fit_tool.fit_file import FitFile
    from fit_tool.profile.messages.workout_message import WorkoutMessage
    from fit_tool.profile.messages.workout_step_message import WorkoutStepMessage

    workout, steps = {}, []
    for record in FitFile.from_bytes(data).records:
        m = record.message
        if isinstance(m, WorkoutMessage):
            workout = {"name": m.workout_name, "sport": m.sport, "num_valid_steps": m.num_valid_steps}
        elif isinstance(m, WorkoutStepMessage):
            steps.append({"index": m.message_index, "duration_type": m.duration_type,
                          "duration_value": m.duration_value, "target_type": m.target_type,
                          "target_value": m.target_value, "low": m.custom_target_value_low,
                          "high": m.custom_target_value_high})
    return workout, steps


def course_points(data: bytes) -> tuple[dict[str, str], str, list[tuple[float, float]]]:
    """(header fields, unit line, [(minutes, value)]) of an .mrc/.erg course."""
    lines = data.decode("ascii").splitlines()
    header_end, data_start, data_end = (lines.index(t) for t in
                                        ("[END COURSE HEADER]", "[COURSE DATA]", "[END COURSE DATA]"))
    assert lines[0] == "[COURSE HEADER]" and header_end < data_start < data_end
    fields = dict(line.split(" = ", 1) for line in lines[1:header_end] if " = " in line)
    units = [line for line in lines[1:header_end] if line.startswith("MINUTES ")]
    points = [tuple(float(v) for v in line.split("\t")) for line in lines[data_start + 1:data_end]]
    return fields, units[0], points
