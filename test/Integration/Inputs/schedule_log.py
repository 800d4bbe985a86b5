"""Checks the learning_rate a `dlc train --log` JSONL reports after each
step against Keras' schedule formulas (keras/src/optimizers/schedules),
written here once more: the rate of the optimizer's next step, i.e. the
schedule at the number of steps done.

  schedule_log.py LOG KIND key=value...   (lists as a:b:c)"""
import json
import math
import sys


def keras_rate(kind, o, step):
    if kind == "exponential_decay":
        p = step / o["decay_steps"]
        if o.get("staircase"):
            p = math.floor(p)
        return o["initial_learning_rate"] * o["decay_rate"] ** p
    if kind == "piecewise_constant":
        for boundary, value in zip(o["boundaries"], o["values"]):
            if step <= boundary:
                return value
        return o["values"][-1]
    if kind == "cosine_decay":
        warmup = o.get("warmup_target")
        steps = o.get("warmup_steps", 0) if warmup is not None else 0
        t = min(step, o["decay_steps"] + steps)
        if t < steps:
            return o["initial_learning_rate"] + (warmup - o["initial_learning_rate"]) * t / steps
        decayed = 0.5 * (1 + math.cos(math.pi * (t - steps) / o["decay_steps"]))
        start = warmup if warmup is not None else o["initial_learning_rate"]
        return start * ((1 - o.get("alpha", 0.0)) * decayed + o.get("alpha", 0.0))
    raise SystemExit("unknown schedule " + kind)


def main():
    path, kind = sys.argv[1], sys.argv[2]
    options = {}
    for item in sys.argv[3:]:
        key, value = item.split("=")
        options[key] = [float(v) for v in value.split(":")] if ":" in value else float(value)
    steps, rates, worst = 0, set(), 0.0
    for line in open(path):
        entry = json.loads(line)
        if "learning_rate" not in entry:
            continue
        want = keras_rate(kind, options, entry["step"])
        worst = max(worst, abs(entry["learning_rate"] - want) / want)
        rates.add(round(entry["learning_rate"], 12))
        steps += 1
    print("%d log lines, %d distinct rates, worst relative difference from Keras %s" % (
        steps, len(rates), "below 1e-12" if worst < 1e-12 else "%.2e" % worst))


main()
