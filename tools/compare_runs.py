#!/usr/bin/env python3
"""Compares two omnirm training runs of one config, for tools/gpu_check.sh's trainer step.

The device run (trained on CUDA, killed and resumed) against the CPU reference run:
  - training loss per step (the last record of each step, so the steps a resumed run repeats
    count once): max |loss_device - loss_cpu| <= --loss-tol;
  - the final held-out evaluation: accuracy, and the chosen / rejected reward means;
  - the rewards `omnirm score` gives the two final models on the eval pairs: max |r_device -
    r_cpu| <= --reward-tol x the CPU rewards' standard deviation, and their correlation;
  - the rewards of the device run's export: equal to the device run's own (both scored on the
    CPU from the same weights), to 1e-6.
Prints one line per check and exits 1 when any fails. Standard library only.

  compare_runs.py --device-run DIR --cpu-run DIR --device-scores F --cpu-scores F
                  --export-scores F [--loss-tol 0.05] [--reward-tol 0.25] [--steps N]
"""
import argparse
import json
import math
import sys


def train_losses(run_dir):
    """{step: loss} from metrics.jsonl, the last record of each step winning."""
    losses = {}
    with open(f"{run_dir}/metrics.jsonl") as f:
        for line in f:
            record = json.loads(line)
            if "loss" in record and "step" in record:
                losses[int(record["step"])] = float(record["loss"])
    return losses


def final_eval(run_dir):
    """The last evaluation record of metrics.jsonl (keys eval/...), or {}."""
    last = {}
    with open(f"{run_dir}/metrics.jsonl") as f:
        for line in f:
            record = json.loads(line)
            if "eval/accuracy" in record:
                last = record
    return last


def rewards(path):
    """{pair id: (reward_chosen, reward_rejected)} of an `omnirm score` file."""
    out = {}
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            out[record["id"]] = (float(record["reward_chosen"]), float(record["reward_rejected"]))
    return out


def flat(scores, ids):
    return [value for i in ids for value in scores[i]]


def correlation(a, b):
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b))
    var_a = sum((x - mean_a) ** 2 for x in a)
    var_b = sum((y - mean_b) ** 2 for y in b)
    return cov / math.sqrt(var_a * var_b) if var_a > 0 and var_b > 0 else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device-run", required=True)
    parser.add_argument("--cpu-run", required=True)
    parser.add_argument("--device-scores", required=True)
    parser.add_argument("--cpu-scores", required=True)
    parser.add_argument("--export-scores", required=True)
    parser.add_argument("--loss-tol", type=float, default=0.05)
    parser.add_argument("--reward-tol", type=float, default=0.25)
    parser.add_argument("--steps", type=int, default=0, help="steps both runs must have logged")
    args = parser.parse_args()
    failures = []

    device_losses, cpu_losses = train_losses(args.device_run), train_losses(args.cpu_run)
    steps = sorted(set(device_losses) & set(cpu_losses))
    if not steps or (args.steps and len(steps) < args.steps):
        failures.append(f"loss curves: {len(steps)} common steps, expected {args.steps}")
    else:
        gaps = [abs(device_losses[s] - cpu_losses[s]) for s in steps]
        worst = max(range(len(steps)), key=lambda i: gaps[i])
        line = (f"loss curves: {len(steps)} steps, max |device - cpu| {gaps[worst]:.4f} at step "
                f"{steps[worst]} (device {device_losses[steps[worst]]:.4f}, cpu "
                f"{cpu_losses[steps[worst]]:.4f}); tolerance {args.loss_tol}")
        print(line)
        if gaps[worst] > args.loss_tol:
            failures.append(line)
        print("  step  device     cpu")
        for s in steps:
            print(f"  {s:4d}  {device_losses[s]:.4f}  {cpu_losses[s]:.4f}")

    device_eval, cpu_eval = final_eval(args.device_run), final_eval(args.cpu_run)
    if not device_eval or not cpu_eval:
        failures.append("final evaluation: missing in " +
                        ("the device run" if not device_eval else "the cpu run"))
    else:
        print("final evaluation (device / cpu): accuracy {:.3f} / {:.3f}, reward chosen {:+.4f} / "
              "{:+.4f}, rejected {:+.4f} / {:+.4f}".format(
                  device_eval["eval/accuracy"], cpu_eval["eval/accuracy"],
                  device_eval["eval/reward_chosen"], cpu_eval["eval/reward_chosen"],
                  device_eval["eval/reward_rejected"], cpu_eval["eval/reward_rejected"]))

    device_scores, cpu_scores = rewards(args.device_scores), rewards(args.cpu_scores)
    export_scores = rewards(args.export_scores)
    ids = sorted(cpu_scores)
    if sorted(device_scores) != ids or sorted(export_scores) != ids or not ids:
        failures.append("scores: the runs scored different pairs")
    else:
        d, c, e = flat(device_scores, ids), flat(cpu_scores, ids), flat(export_scores, ids)
        mean_c = sum(c) / len(c)
        std_c = math.sqrt(sum((x - mean_c) ** 2 for x in c) / len(c))
        worst = max(abs(x - y) for x, y in zip(d, c))
        line = (f"final rewards on {len(ids)} eval pairs: max |device - cpu| {worst:.4f} = "
                f"{worst / max(std_c, 1e-12):.3f} x the cpu rewards' std {std_c:.4f} "
                f"(tolerance {args.reward_tol}), correlation {correlation(d, c):.5f}")
        print(line)
        if worst > args.reward_tol * max(std_c, 1e-3):
            failures.append(line)
        export_gap = max(abs(x - y) for x, y in zip(e, d))
        line = f"export round trip: max |export - device run| {export_gap:.2e} (tolerance 1e-6)"
        print(line)
        if export_gap > 1e-6:
            failures.append(line)

    for failure in failures:
        print("FAILED:", failure)
    print("trainer comparison:", "FAILED" if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
