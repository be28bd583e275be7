#!/usr/bin/env python3
"""Recomputes Omni-RewardBench's metrics from an `omnirm eval --out DIR` scores.jsonl.

Written from the metric definitions alone (docs/eval.md), with no code shared with omnirm, so
that a test can hold omnirm's report.json against it. Standard library only.

For each pair m = reward1 - reward2 and gold g in {+1, 0}: (1: the first response is
preferred, 0: a tie; the file always puts the preferred response first)
  w/o Ties   over the non-tie pairs: right when sign(m) == g (m == 0 is wrong);
  w/ Ties    a tie is predicted when |m| <= eps; the share of pairs right (non-ties with the
             right sign, ties predicted as ties) at the best eps among -1 (no tie predicted)
             and every observed |m|, the smallest eps among the best;
  held out   eps chosen that way on the other tasks, applied to this one;
  overall    the mean over tasks (w/o Ties: over tasks with a non-tie pair).

Usage: bench_metrics_from_scores.py DIR/scores.jsonl   (prints JSON: tasks, overall)
"""
import json
import sys


def sign(x):
    return (x > 0) - (x < 0)


def right_with_ties(pair, eps):
    margin, gold = pair
    if abs(margin) <= eps:
        return gold == 0
    return gold != 0 and sign(margin) == gold


def accuracy_with_ties(pairs, eps):
    return sum(right_with_ties(p, eps) for p in pairs) / len(pairs) if pairs else 0.0


def best_eps(pairs):
    """The smallest eps of the best accuracy, trying -1 and every observed |m| (brute force)."""
    candidates = [-1.0] + sorted({abs(m) for m, _ in pairs})
    best, best_accuracy = -1.0, -1.0
    for eps in candidates:
        accuracy = accuracy_with_ties(pairs, eps)
        if accuracy > best_accuracy:
            best, best_accuracy = eps, accuracy
    return best, best_accuracy


def main(path):
    by_task = {}
    with open(path, encoding="utf-8") as scores:
        for line in scores:
            if not line.strip():
                continue
            record = json.loads(line)
            by_task.setdefault(record["task"], []).append((record["margin"], record["gold"]))
    tasks = {}
    for task, pairs in sorted(by_task.items()):
        non_ties = [(m, g) for m, g in pairs if g != 0]
        without = sum(sign(m) == g for m, g in non_ties) / len(non_ties) if non_ties else None
        _, with_ties = best_eps(pairs)
        others = [p for other, ps in by_task.items() if other != task for p in ps]
        held_eps = best_eps(others)[0] if others else best_eps(pairs)[0]
        tasks[task] = {
            "pairs": len(pairs),
            "ties": len(pairs) - len(non_ties),
            "without_ties": without,
            "with_ties": with_ties,
            "with_ties_held_out": accuracy_with_ties(pairs, held_eps),
        }
    scored = [t["without_ties"] for t in tasks.values() if t["without_ties"] is not None]
    overall = {
        "without_ties": sum(scored) / len(scored) if scored else 0.0,
        "with_ties": sum(t["with_ties"] for t in tasks.values()) / len(tasks) if tasks else 0.0,
        "with_ties_held_out": (sum(t["with_ties_held_out"] for t in tasks.values()) / len(tasks)
                               if tasks else 0.0),
    }
    json.dump({"tasks": tasks, "overall": overall}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench_metrics_from_scores.py DIR/scores.jsonl")
    main(sys.argv[1])
