"""Reads the event files of a tensorboard callback back with TensorBoard's
own loader (the `tensorboard` package) and compares each scalar with what
`dlc train --log` wrote for the same epoch or step.

  tensorboard_read.py LOG_DIR TRAIN_LOG.jsonl"""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def scalars(directory):
    accumulator = EventAccumulator(directory)
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


def main():
    logdir, log = sys.argv[1], sys.argv[2]
    train, validation = scalars(logdir + "/train"), scalars(logdir + "/validation")
    print("train:", " ".join("%s(%d)" % (tag, len(v)) for tag, v in sorted(train.items())))
    print("validation:", " ".join("%s(%d)" % (tag, len(v)) for tag, v in sorted(validation.items())))
    worst, compared = 0.0, 0
    for line in open(log):
        entry = json.loads(line)
        if "batch" in entry:  # a step's line: batch_ scalars at the step
            where, prefix, step = train, "batch_", entry["step"]
        elif "epoch" in entry:  # an epoch's: epoch_ scalars at the 0-based epoch
            where, prefix, step = train, "epoch_", entry["epoch"] - 1
        else:
            continue
        for key, value in entry.items():
            if not isinstance(value, float) and key != "learning_rate":
                continue
            target, name = (validation, key[4:]) if key.startswith("val_") else (where, key)
            tag = prefix + name
            if tag not in target:
                continue
            got = dict(target[tag]).get(step)
            if got is None:
                raise SystemExit("%s at step %d: missing from the event files" % (tag, step))
            # Event files hold float32 values.
            worst = max(worst, abs(got - value) / max(abs(value), 1e-30))
            compared += 1
    print("%d scalars compared with the log, worst relative difference %s" % (
        compared, "below 1e-6" if worst < 1e-6 else "%.2e" % worst))


main()
