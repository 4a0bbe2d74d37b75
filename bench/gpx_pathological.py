"""Benchmark: pathological GPX shapes against a plain ride of the same size. Prints; asserts nothing.

    python bench/gpx_pathological.py [--mb 16] [--baseline-code /path/to/older/checkout] [--timeout 120]

Each shape is a real-looking track with one pathology, about ``--mb`` MB: a million attributes on one point (issue
16's attribute bomb: 90 s and 4.4 GB before), elements nested a million deep, one huge text node, millions of
tiny foreign elements, a million tiny points. Every figure comes from this run: ``read_gpx`` on each file in a
fresh subprocess (CPU time, peak RSS from wait4), printed as ratios to a plain 1 Hz ride of the same size read
the same way (time) and to the file's size (memory above the interpreter with the file's bytes loaded).
``--baseline-code`` runs the same files through an older checkout (e.g. the main branch) for a before/after.
Target (issue 16): every shape read or refused in seconds, with peak memory within ~2x the file's size.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="bench" '
        b'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Bench</name><trkseg>\n')
TAIL = b"</trkseg></trk></gpx>\n"


def point(i: int) -> bytes:
    return (b'<trkpt lat="%.6f" lon="%.6f"><ele>%.1f</ele><time>2024-05-01T%02d:%02d:%02dZ</time></trkpt>\n'
            % (45 + i * 2e-5, 6 + i * 2e-5, 100 + (i % 50) / 10, 6 + i // 3600 % 18, i // 60 % 60, i % 60))


def shapes(size: int) -> dict[str, bytes]:
    n_plain = size // len(point(0))
    plain = HEAD + b"".join(point(i) for i in range(n_plain)) + TAIL
    few = HEAD + b"".join(point(i) for i in range(100))
    attributes = size // 17
    return {
        "plain ride (baseline)": plain,
        f"attribute bomb ({attributes:,} attributes on one point)":
            HEAD + b'<trkpt lat="45" lon="6"' + b"".join(b' attr%07d="1"' % i for i in range(attributes))
            + b"><ele>1</ele></trkpt>\n" + few[len(HEAD):] + TAIL,
        f"deep nesting ({size // 7:,} levels)":
            few + b"<trkpt lat=\"45\" lon=\"6\"><extensions>" + b"<a>" * (size // 7) + b"</a>" * (size // 7)
            + b"</extensions></trkpt>" + TAIL,
        f"one huge text node ({size / 1e6:.0f} MB)": HEAD.replace(b"<name>Bench", b"<name>" + b"x" * size) + few[len(HEAD):]
        + TAIL,
        f"tiny foreign elements ({size // 4:,})": few + b"<b/>" * (size // 4) + TAIL,
        f"tiny points ({size // 40:,} untimed)": HEAD + b"".join(
            b'<trkpt lat="45.%06d" lon="6.%06d"/>\n' % (i % 999_999, i % 999_983) for i in range(size // 40)) + TAIL,
    }


CODE = ("import sys, time, json; sys.path.insert(0, {root!r}); from core.files.gpx import read_gpx; "
        "from core.errors import InvalidFileError; data = open({path!r}, 'rb').read(); c = time.process_time()\n"
        "try:\n    s = read_gpx(data, 'f.gpx', max_bytes=1 << 31); out = f'read {{len(s):,}} points'\n"
        "except InvalidFileError as e:\n    out = 'refused: ' + str(e).split(': ', 1)[1][:70]\n"
        "json.dump({{'cpu': time.process_time() - c, 'out': out}}, open({result!r}, 'w'))")


def _spawn(code: str) -> int:
    """A fresh interpreter started with posix_spawn: a fork would carry this process's pages into the child's
    peak RSS (ru_maxrss counts the time before exec)."""
    return os.posix_spawn(sys.executable, [sys.executable, "-c", code], os.environ)


def run(root: Path, path: Path, timeout_s: float) -> tuple[float, float, str]:
    """(CPU s of read_gpx, peak RSS MiB of the child, outcome) in a fresh interpreter; killed after timeout_s."""
    import json

    result = Path(tempfile.mktemp(suffix=".json"))
    pid = _spawn(CODE.format(root=str(root), path=str(path), result=str(result)))
    deadline = time.monotonic() + timeout_s
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return timeout_s, usage.ru_maxrss / 1024, f"killed after {timeout_s:.0f} s"
        time.sleep(0.05)
    if not result.exists():
        return float("nan"), usage.ru_maxrss / 1024, f"crashed (exit {os.waitstatus_to_exitcode(status)})"
    data = json.loads(result.read_text())
    result.unlink()
    return data["cpu"], usage.ru_maxrss / 1024, data["out"]


def interpreter_rss(root: Path, path: Path) -> float:
    """Peak RSS of an interpreter that imported the reader and loaded the file's bytes (the floor)."""
    pid = _spawn(f"import sys; sys.path.insert(0, {str(root)!r}); import core.files.gpx; "
                 f"d = open({str(path)!r}, 'rb').read()")
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024


def generate(folder: Path, size: int) -> None:
    """Write every shape to ``folder`` with its name in index.txt (run in its own process, see main)."""
    names = []
    for index, (name, data) in enumerate(shapes(size).items()):
        (folder / f"shape{index}.gpx").write_bytes(data)
        names.append(name)
    (folder / "index.txt").write_text("\n".join(names), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=16.0, help="size of each generated file (default 16)")
    parser.add_argument("--baseline-code", type=Path, help="an older checkout to run the same files through")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a read is killed")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, int(args.mb * 1e6))
        return
    roots = [("this code", ROOT)] + ([("baseline code", args.baseline_code)] if args.baseline_code else [])
    with tempfile.TemporaryDirectory(prefix="velocoach-bench-") as work:
        # Generated by another process: this one stays small, because a spawned child's peak RSS counts the
        # parent's pages until it has exec'd.
        subprocess.run([sys.executable, __file__, "--generate", work, "--mb", str(args.mb)], check=True)
        names = (Path(work) / "index.txt").read_text(encoding="utf-8").splitlines()
        files = [(name, Path(work) / f"shape{i}.gpx") for i, name in enumerate(names)]
        for label, root in roots:
            print(f"== {label} ({root})")
            plain_cpu = None
            for name, path in files:
                size = path.stat().st_size
                cpu, rss, outcome = run(root, path, args.timeout)
                above = rss - interpreter_rss(root, path)
                plain_cpu = plain_cpu or cpu
                print(f"{name:<50} {size / 1e6:5.1f} MB  {cpu:6.2f} s CPU ({cpu / plain_cpu:6.2f}x the plain ride)  "
                      f"peak +{above:5.0f} MiB ({above * 1048576 / size:4.1f}x the file)  {outcome}")


if __name__ == "__main__":
    main()
