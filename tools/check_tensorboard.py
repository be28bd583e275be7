#!/usr/bin/env python3
"""Reads a training run's TensorBoard event files with TensorBoard's own reader and checks
that they hold exactly the scalars of the run's metrics.jsonl: the same (tag, step) pairs,
each value equal to the JSON number rounded to float32 (event files store float32).

    ~/.local/share/omnirm/venv/bin/python tools/check_tensorboard.py RUN_DIR

RUN_DIR is a run's train.output_dir: metrics.jsonl in it, event files in RUN_DIR/tb/.
Exit codes: 0 everything matches; 1 a mismatch (each printed); 2 bad usage or missing
files; 77 the tensorboard package is not installed (prints "skipped: tensorboard not
installed"; tools/setup.sh installs it into the omnirm venv).
"""
import json
import math
import pathlib
import struct
import sys

SKIP = 77


def float32(value):
    return struct.unpack("<f", struct.pack("<f", value))[0]


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def expected_scalars(metrics_path):
    """(tag, step) -> float32 value; a later record for the same step replaces an earlier one
    (a resumed run repeats the steps after its last checkpoint)."""
    expected = {}
    with open(metrics_path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            step = record.get("step")
            if not isinstance(step, int):
                raise SystemExit(f"{metrics_path}:{number}: record without an integer step")
            for key, value in record.items():
                if key == "step" or isinstance(value, bool) or isinstance(value, str):
                    continue
                if value is None:  # NaN is written to JSON as null
                    value = math.nan
                if isinstance(value, (int, float)):
                    expected[(key, step)] = float32(float(value))
    return expected


def tensorboard_scalars(event_dir, event_accumulator):
    accumulator = event_accumulator.EventAccumulator(
        str(event_dir), size_guidance={event_accumulator.SCALARS: 0}
    )
    accumulator.Reload()
    found = {}
    for tag in accumulator.Tags()["scalars"]:
        for event in accumulator.Scalars(tag):
            if (tag, event.step) in found:
                print(f"duplicate: {tag} at step {event.step} appears twice")
                found[(tag, event.step)] = math.inf
            else:
                found[(tag, event.step)] = event.value
    return found


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: check_tensorboard.py RUN_DIR", file=sys.stderr)
        return 2
    try:
        import tensorboard
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        print("skipped: tensorboard not installed")
        return SKIP

    run = pathlib.Path(argv[1])
    metrics = run / "metrics.jsonl"
    event_dir = run / "tb"
    event_files = sorted(event_dir.glob("*tfevents*")) if event_dir.is_dir() else []
    if not metrics.is_file() or not event_files:
        print(f"{run}: expected metrics.jsonl and event files in tb/; train with "
              "train.tensorboard: true", file=sys.stderr)
        return 2

    expected = expected_scalars(metrics)
    found = tensorboard_scalars(event_dir, event_accumulator)
    problems = []
    for key in sorted(expected.keys() - found.keys()):
        problems.append(f"missing from the event files: {key[0]} at step {key[1]}")
    for key in sorted(found.keys() - expected.keys()):
        problems.append(f"not in metrics.jsonl: {key[0]} at step {key[1]}")
    for key in sorted(expected.keys() & found.keys()):
        if not same(expected[key], found[key]):
            problems.append(
                f"{key[0]} at step {key[1]}: event file {found[key]!r}, "
                f"metrics.jsonl {expected[key]!r} (as float32)"
            )
    for problem in problems:
        print(problem)
    tags = len({tag for tag, _ in expected})
    if problems:
        print(f"mismatch: {len(problems)} problems over {len(expected)} scalars")
        return 1
    print(
        f"ok: {len(found)} scalars under {tags} tags in {len(event_files)} event file(s) match "
        f"metrics.jsonl (read by tensorboard {tensorboard.__version__})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
