"""Timing helpers shared by the peer workers (standard library only: the workers run
under different interpreters — Debian's python3 for PyTorch, bench/.venv for Keras)."""

import argparse
import json
import math
import os
import statistics
import sys
import time

# The two benchmark models, by the names the runner and workers use.
MODELS = ("cnn", "lstm", "vgg")
VGG_CLASSES = 10  # examples/vgg16_transfer.dl's head
CNN_INPUT = (28, 28, 1)
CNN_CLASSES = 10
LSTM_SEQ = 20
LSTM_VOCAB = 1000
LSTM_EMBED = 128
LSTM_UNITS = 128
SEED = 1234
# Distinct synthetic batches a worker cycles through (all generated up front).
NUM_BATCHES = 4


def worker_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--mode", choices=("train", "infer"), required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--min-time", type=float, default=3.0,
                   help="seconds each timed repetition runs for at least")
    p.add_argument("--reps", type=int, default=3)
    return p


def cycle(fns):
    """Returns a zero-argument step that calls fns[0], fns[1], ... round robin."""
    state = {"i": 0}

    def step():
        f = fns[state["i"] % len(fns)]
        state["i"] += 1
        return f()

    return step


def calibrate(step, seconds=0.4, min_calls=3):
    """Seconds per call of step, from running it for about `seconds`."""
    n = 0
    t0 = time.perf_counter()
    while True:
        step()
        n += 1
        el = time.perf_counter() - t0
        if n >= min_calls and el >= seconds:
            return el / n


def measure(step, batch, warmup, min_time, reps):
    """Warm up, pick a step count that runs >= min_time, time `reps` repetitions.

    ms_per_step is the median over the repetitions of (wall time / steps); for batch 1
    that is the latency."""
    for _ in range(warmup):
        step()
    per = calibrate(step)
    steps = max(5, int(math.ceil(min_time / per)))
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        ms.append(1000.0 * (time.perf_counter() - t0) / steps)
    med = statistics.median(ms)
    return {
        "batch": batch,
        "steps": steps,
        "warmup": warmup,
        "reps": reps,
        "ms_per_step": med,
        "samples_per_sec": batch * 1000.0 / med,
        "ms_per_step_reps": ms,
    }


def emit(result):
    """The worker's one line of JSON on stdout (the runner reads the last such line)."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def threads():
    return int(os.environ.get("BENCH_THREADS", "2"))
