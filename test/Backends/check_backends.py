#!/usr/bin/env python3
"""Every op on every backend: runs models through `dlc grad` (loss, every
gradient, and one training step) on the float64 reference and on each
backend, on fresh random data, and compares. Each model is also compiled for
CUDA with NVRTC (sm_90) and its kernels recorded for the coverage check.

  check_backends.py --dlc build/tools/dlc/dlc --conformance [--coverage]
  check_backends.py --dlc build/tools/dlc/dlc --fuzz 60 [--seed S]
  check_backends.py --dlc ... --models a.dl b.dl    (kept failures, regressions)

  check_backends.py --exported DIR --dlc-rt bin/dlc-rt --backends cuda   (GPU check)

Backends: cpu, cuda-sim and cuda (skipped, saying why, without a GPU), each
against `ref`, allowing for what float32 rounding does to this model as the
reference's rounding probes measure it (ROUNDING_AMPLIFICATION). A
mismatch, crash or compile failure prints the case (and its seed) and, with
--keep DIR, leaves the model, its data and every output there. --export DIR writes what the GPU check needs per case: the CUDA
bundle, the data and the reference's results (test/gpu/); --exported runs
them with dlc-rt where there is no compiler. --plant tests the comparison.
--deterministic compiles and runs every case with --deterministic and runs
each backend twice, the emulation in another block order: the bits of the
two runs must agree."""
import argparse
import concurrent.futures
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
sys.path.insert(0, HERE)
import conformance_cases  # noqa: E402
import dlmodels  # noqa: E402
from safetensors_io import read, rounded, write  # noqa: E402

# dl ops that are structure, not computation: no backend runs them.
STRUCTURAL_OPS = {
    "dl.param": "declares a parameter",
    "dl.weight": "reads a parameter (a buffer binding)",
    "dl.train_setup": "records the training setup",
    "dl.fused": "groups ops into a kernel",
    "dl.yield": "ends a kernel group",
    "dl.assign": "stores a parameter: lowering binds its new value's buffer",
    "dl.flatten": "a view: the buffer of its input, reinterpreted",
    "dl.reshape": "a view: the buffer of its input, reinterpreted",
}


def shape_of(text):
    return [int(d) for d in text.strip("[]").split(",") if d]


def run(cmd, cwd, timeout=600, env=None):
    start = time.time()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **env) if env else None)
    return p.returncode, p.stdout + p.stderr, time.time() - start


def no_gpu():
    """Why the cuda backend cannot run here ("" when a GPU answers)."""
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return "no CUDA driver (libcuda.so.1)"
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
        return "the CUDA driver finds no GPU"
    return ""


def make_data(case, inspect, rng):
    """Random parameters (the non-slot ones) and a batch for the grad program."""
    weights = {}
    for p in inspect["parameters"]:
        if "slot_of" in p:
            continue
        shape = shape_of(p["shape"])
        count = math.prod(shape)
        if p["name"].endswith("moving_variance"):
            values = [rng.uniform(0.5, 1.5) for _ in range(count)]
        else:
            fan = shape[-1] + (count // shape[-1] if len(shape) > 1 else 0)
            scale = math.sqrt(6.0 / max(fan, 1))
            values = [rng.uniform(-scale, scale) for _ in range(count)]
        weights[p["name"]] = ("F32", shape, values)
    grad = next(p for p in inspect["programs"] if p["name"] == "grad")
    inputs = {i["name"]: i for i in case["inputs"]}
    batch = {}
    for t in grad["inputs"]:
        shape = shape_of(t["shape"])
        count = math.prod(shape)
        output = next((o for o in case.get("outputs", [])
                       if t["name"] == ("labels" if len(case["outputs"]) == 1 else o["name"] + "/labels")), None)
        if t["name"] == "labels" or output:
            # A row per example, or per position of a sequence of predictions.
            loss, classes = (output["loss"], output["classes"]) if output else (case["loss"], case["classes"])
            # The program takes class ids for the sparse loss, and for
            # categorical_crossentropy over a source of ids (dlc-class-id-labels).
            ids_taken = t["dtype"] in ("i32", "i64")
            rows = count if ids_taken else count // classes
            if ids_taken:
                batch[t["name"]] = ("I32", shape, [rng.randrange(classes) for _ in range(count)])
            elif loss == "categorical_crossentropy":
                ids = [rng.randrange(classes) for _ in range(rows)]
                batch[t["name"]] = ("F32", shape, [1.0 if c == ids[r] else 0.0
                                                   for r in range(rows) for c in range(classes)])
            elif loss == "binary_crossentropy":
                batch[t["name"]] = ("F32", shape, [rng.choice([0.0, 1.0, 1.0, 0.3]) for _ in range(count)])
            else:
                batch[t["name"]] = ("F32", shape, [rng.uniform(-1, 1) for _ in range(count)])
        elif inputs.get(t["name"], {}).get("kind") == "tokens":
            vocab = inputs[t["name"]]["vocab"]
            batch[t["name"]] = ("I32", shape, [rng.randrange(vocab) for _ in range(count)])
        else:
            # Written in the input's declared element type, so every backend
            # and the reference read the same values.
            dtype = dlmodels.SAFETENSORS_DTYPES[inputs.get(t["name"], {}).get("dtype", "")]
            batch[t["name"]] = (dtype, shape, [rounded(dtype, rng.uniform(-1.5, 1.5)) for _ in range(count)])
    # The training step's augmentation keys (dl.augment; `dlc grad` applies
    # the data transforms in the step on every backend): examples anywhere
    # in a dataset, any seed and epoch.
    rows = shape_of(grad["inputs"][0]["shape"])[0]
    for name, dims in case.get("uncropped", {}).items():  # the batch before the step's crop
        shape = [rows] + dims
        batch[name + "/uncropped"] = ("F32", shape, [rounded("F32", rng.uniform(-1.5, 1.5))
                                                      for _ in range(math.prod(shape))])
    batch["example_ids"] = ("I64", [rows], [rng.randrange(1 << 20) for _ in range(rows)])
    batch["augment_seed"] = ("I64", [2], [rng.randrange(1 << 31), rng.randrange(100)])
    return weights, batch


# A backend rounds every value it computes to float32, and a model can
# amplify that far beyond eps32: the gradients of a bias before a
# normalization are 0 but for rounding, and an LSTM or dense layer before a
# batch_norm over a few rows gets what is left of sums that cancel. The
# reference measures it: `dlc grad --rounding-probe` moves each value a
# float32 backend rounds (op results, running sums, LSTM states) by up to one
# float32 rounding, and the results of exp, log, tanh and erf by the four a
# backend's fast forms may be off (the CPU's vectorised exp and tanh are
# about 2 ulp), and each gradient moves with it (its rounding response, the
# largest over ROUNDING_PROBES probes). A gradient is compared with its own
# largest value, less ROUNDING_AMPLIFICATION times its response.
# Measured with calibrate.py over 1,500 fuzz models, the conformance suite
# and the kept regressions (17,008 gradients on cpu and cuda-sim): a
# backend's difference reached 3.4 times the response; allowing 4, the worst
# remaining error was 1.5e-7 (without the allowance, 2.8e-3 even at 1e-2 of
# the model's largest gradient, the scale this comparison used before).
# A later 300-model run (seeds 20261204-20261503) found the CPU at 5.4 times
# a response that modelled exp and tanh as exact (regression
# approximate_math_rounding); modelling them as above, the same 300 models
# (3,058 gradients) reach 1.3 times their response, worst error 9.2e-8.
ROUNDING_AMPLIFICATION = 4.0
# A gradient a millionth the size of the model's largest is zero for all
# that float32 can tell: compared at no less than this fraction of the
# model's largest gradient. (Seed 415294027: a frozen batch_norm feeding gelu
# far into its negative tail gives a dense kernel gradient of 1e-15 in the
# float64 reference and exactly 0 in float32, where gelu's tail underflows;
# the dense bias gradient is 0.54.)
GRADIENT_SCALE_FLOOR = 1e-6
# One probe's move of a tensor varies from probe to probe (the largest of
# three over the smallest: median 2, 99th percentile 12, over 1,414 fuzz
# gradients, partly because the moves are a few float32 units in the last
# place of the results); the response is the largest of this many, run as
# mirrored pairs (seeds S and S ^ 1, RoundingProbe.h). A 16-bit flip the
# backend may make can be rare under the probes: in regression
# lstm_sixteen_bit_flip, one pair in four misses it, so four pairs miss it
# 0.4% of the time (three unpaired probes, as before: 26%). The response
# only grows with more probes, so the last two pairs run only for a case
# that fails with the first two: the verdict is that of all eight.
ROUNDING_PROBES = 8
FIRST_ROUNDING_PROBES = 4
# A step's parameters and slots are compared at no less than this fraction
# of the largest update of their kind (differences their gradients explain
# are allowed for separately).
STEP_SCALE_FLOOR = 1e-2
# An optimizer's update of one element moves with that element's gradient by
# at most this factor of its relative change (for sgd and momentum 1, for
# the square in adam's and rmsprop's second moments 2); a step is compared
# allowing for the gradient difference already measured and checked. The
# gradient's part of an update is bounded by the tensor's largest update, not
# the element's own (adamw's weight decay can cancel it to near zero).
UPDATE_SENSITIVITY = 2.0
# A parameter after the step is a float32 value: the float64 reference's
# old + update and a backend's differ by its rounding, a few units in the
# last place of the old and new values whatever the update's size.
FLOAT32_ULPS = 4


def largest(values):
    return max((abs(v) for v in values), default=0.0)


def compare_tensors(got, want, error_of):
    """(worst error, its tensor, problem or "") over the tensors of |want|:
    |got| must hold the same names and shapes, finite values, and
    error_of(name, got values, want values) gives each tensor's error."""
    if sorted(got) != sorted(want):
        return math.inf, "", "tensors differ: %s vs %s" % (sorted(got), sorted(want))
    worst, where = 0.0, ""
    for name in sorted(want):
        if got[name][1] != want[name][1]:
            return math.inf, name, "shape %s vs %s" % (got[name][1], want[name][1])
        if not all(math.isfinite(v) for v in got[name][2]):
            return math.inf, name, "not finite"
        e = error_of(name, got[name][2], want[name][2])
        if e > worst or not where:
            worst, where = e, name
    return worst, where, ""


def read_outputs(directory, run):
    """The gradients file of |run| ("ref", "cpu", "ref_probe0", ...) and,
    where the model has an evaluate program, its outputs (each example's
    loss and metric scores) as "evaluate/<name>": compared alike."""
    outputs = read(os.path.join(directory, "grad_%s.safetensors" % run))
    scores = os.path.join(directory, "eval_%s.safetensors" % run)
    if os.path.exists(scores):
        outputs.update(("evaluate/" + name, value) for name, value in read(scores).items())
    return outputs


def eval_args(directory, run):
    """--eval-out for |run| when the reference evaluated the case (the
    bundle has an evaluate program)."""
    evaluates = os.path.exists(os.path.join(directory, "evaluates"))
    return ["--eval-out", "eval_%s.safetensors" % run] if evaluates else []


def rounding_response(directory, want):
    """Per tensor, how far the reference's gradient moved under the rounding
    probes (`dlc grad --rounding-probe`, grad_ref_probe*.safetensors): the
    float32 noise of this model, which a backend that rounds every
    intermediate shows too."""
    response = {}
    for probe in range(ROUNDING_PROBES):
        if not os.path.exists(os.path.join(directory, "grad_ref_probe%d.safetensors" % probe)):
            break  # the later probes run only when needed
        probed = read_outputs(directory, "ref_probe%d" % probe)
        for name in want:
            moved = max((abs(a - b) for a, b in zip(probed[name][2], want[name][2])), default=0.0)
            response[name] = max(response.get(name, 0.0), moved)
    return response


def step_rounding_response(directory, want):
    """Per tensor and element, how far the reference's step moved under the
    same probes: the step's own float32 noise. It matters where the step's
    gradients are not @grad's: a step that augments its batch (dl.augment)
    differentiates other inputs than @grad, whose response and backend
    difference then do not explain the update (fuzz seed 9040: a batch_norm
    scale's momentum after random_contrast, 3e-4 off on cpu and cuda-sim
    alike)."""
    response = {name: [0.0] * len(w[2]) for name, w in want.items()}
    for probe in range(ROUNDING_PROBES):
        path = os.path.join(directory, "step_ref_probe%d.safetensors" % probe)
        if not os.path.exists(path):
            break
        for name, (_, _, values) in read(path).items():
            if name in response and len(values) == len(response[name]):
                response[name] = [max(r, abs(a - b)) for r, a, b in zip(response[name], values, want[name][2])]
    return response


def compare_grads(got, want, response):
    """Every gradient (and the loss) against the reference's, relative to
    its largest value, less ROUNDING_AMPLIFICATION times its rounding
    |response|: (that error, tensor, problem, the tensor's error before the
    allowance) for the worst tensor, and per tensor [difference, response,
    largest value] (what calibrate.py reads)."""
    table = {}
    floor = GRADIENT_SCALE_FLOOR * max(
        (largest(w[2]) for name, w in want.items() if name != "loss" and not name.startswith("evaluate/")),
        default=0.0)

    def error_of(name, g, w):
        difference = max((abs(a - b) for a, b in zip(g, w)), default=0.0)
        table[name] = [difference, response.get(name, 0.0), largest(w)]
        scale = largest(w) if name == "loss" or name.startswith("evaluate/") else max(largest(w), floor)
        return max(0.0, difference - ROUNDING_AMPLIFICATION * table[name][1]) / (scale or 1.0)
    error, where, problem = compare_tensors(got, want, error_of)
    before = table[where][0] / (table[where][2] or 1.0) if where in table else math.inf
    return error, where, problem, before, table


def compare_steps(got, want, weights, grads, backend_grads, step_response):
    """The same over one training step: every parameter and optimizer slot,
    each measured against the update the reference made (want - weights;
    slots start at zero), less a float32 rounding allowance per element.
    A slot is compared with the other slots of its kind (m, v, ...). Each
    element may also differ by what its gradient's difference between the
    backend and the reference explains (UPDATE_SENSITIVITY); an element whose
    gradient is mostly that difference (float noise around a zero) is only
    required to be finite, and so is a parameter's element whose slots are
    mostly their own rounding response. Each element may differ by
    ROUNDING_AMPLIFICATION times its own rounding response (|step_response|)
    too."""
    params = sorted((n for n in weights), key=len, reverse=True)

    def owner(name):
        return next((p for p in params if name == p or name.startswith(p + "/")), name)

    def update(name):
        base = weights.get(name, (None, None, [0.0] * len(want[name][2])))[2]
        return [w - b for w, b in zip(want[name][2], base)], base

    kind_largest = {}
    for name in want:
        kind = name[len(owner(name)):]
        kind_largest[kind] = max(kind_largest.get(kind, 0.0), largest(update(name)[0]))

    # Per parameter, the elements whose step gradient is mostly float noise,
    # as its optimizer slots (m, v, velocity: functions of that gradient)
    # show: a slot's rounding response reaching half its value. The step's
    # gradients are not @grad's where the step augments its batch, so they
    # are read off the slots (fuzz seed 597835020: pixels near zero after
    # augmentation, a relu keeps them in the reference and drops them on
    # cuda-sim; Adam turns a gradient of 1e-6 into a whole learning rate).
    noise = {}
    for name, (_, _, w) in want.items():
        if owner(name) == name:
            continue
        rounding = step_response.get(name) or [0.0] * len(w)
        if owner(name) not in want or len(want[owner(name)][2]) != len(w):
            continue
        marks = noise.setdefault(owner(name), set())
        marks.update(i for i, (v, r) in enumerate(zip(w, rounding))
                     if ROUNDING_AMPLIFICATION * r >= 0.5 * abs(v) and r > 0)

    def error_of(name, g, w):
        delta, base = update(name)
        largest_delta = largest(delta)
        scale = max(largest_delta, STEP_SCALE_FLOOR * kind_largest[name[len(owner(name)):]])
        ref_grad = grads.get(owner(name), (None, None, None))[2]
        got_grad = backend_grads.get(owner(name), (None, None, None))[2]
        tracked = ref_grad is not None and got_grad is not None and len(ref_grad) == len(g)
        rounding = step_response.get(name) or [0.0] * len(g)
        e = 0.0
        noisy = noise.get(name, ()) if owner(name) == name else ()
        for i, (a, b) in enumerate(zip(g, w)):
            if i in noisy:
                continue
            # The new value is stored in float32: a few units in its last place.
            allowed = FLOAT32_ULPS * 2.0 ** -24 * (abs(b) + abs(base[i]))
            allowed += ROUNDING_AMPLIFICATION * rounding[i]
            if tracked:
                moved = abs(got_grad[i] - ref_grad[i])
                if moved >= 0.5 * abs(ref_grad[i]):
                    continue
                if moved:  # the update's gradient part: up to the tensor's largest update
                    allowed += UPDATE_SENSITIVITY * largest_delta * moved / abs(ref_grad[i])
            e = max(e, max(0.0, abs(a - b) - allowed) / scale if scale > 0 else abs(a - b))
        return e
    return compare_tensors(got, want, error_of)


def check_case(case, args, root):
    """Runs one case; returns a result dict."""
    directory = os.path.join(root, case["name"])
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "model.dl"), "w") as f:
        f.write(case["text"])
    with open(os.path.join(directory, "case.json"), "w") as f:
        json.dump({k: v for k, v in case.items() if k != "text"}, f)
    result = {"name": case["name"], "seed": case.get("seed"), "errors": {}, "problems": [],
              "kernels": [], "directory": directory}

    def problem(text):
        result["problems"].append(text)
        return result

    rc, out, _ = run([args.dlc, "check", "model.dl"], directory)
    if rc != 0:
        return problem("dlc check failed:\n" + out[-3000:])
    compile_cmd = [args.dlc, "compile", "model.dl", "-o", "model.dlcb"] + policy_args(args)
    if args.nvrtc:
        compile_cmd += ["--target", "cuda", "--cuda-arch", "sm_90"]
    rc, out, _ = run(compile_cmd, directory)
    if rc != 0:
        return problem("dlc compile%s failed:\n%s" % (" --target cuda" if args.nvrtc else "", out[-3000:]))
    rc, out, _ = run([args.dlc, "inspect", "model.dlcb", "--json"], directory)
    if rc != 0:
        return problem("dlc inspect failed:\n" + out[-2000:])
    inspect = json.loads(out)
    if any(p["name"] == "evaluate" for p in inspect["programs"]):
        open(os.path.join(directory, "evaluates"), "w").close()
    for program in inspect["programs"]:
        for k in program["kernels"]:
            families = ["cpu." + c["routine"] for c in k.get("cpu", [])]
            if k.get("cuda"):
                families.append("cuda." + k["cuda"]["family"])
            if k.get("library"):
                families.append("cuda." + k["library"]["family"])
            result["kernels"].append({"program": program["name"], "ops": k["ops"],
                                      "families": families})
    # Under --kernels library (or auto) a case without a library call (or
    # an alternative) runs as it does without the option (conformance.test
    # runs it): skipped.
    if args.kernels != "generated" and args.nvrtc and not any(
            k.get("library") or k.get("alternative") for p in inspect["programs"] for k in p["kernels"]):
        result["skipped"] = "no library call" + (" or alternative" if args.kernels == "auto" else "")
        return result
    # A kept failure's case.json names the data it failed on (data_seed).
    rng = random.Random("data:" + case.get("data_seed", "%s:%s" % (case["name"], case.get("seed"))))
    weights, batch = make_data(case, inspect, rng)
    write(os.path.join(directory, "weights.safetensors"), weights)
    write(os.path.join(directory, "batch.safetensors"), batch)
    step = rng.randrange(5)
    result["step"] = step
    with open(os.path.join(directory, "step"), "w") as f:
        f.write("%d\n" % step)
    # Under a mixed policy the reference evaluates the same program, rounded
    # to 16 bits where it rounds: the backends must match it as closely.
    command = [args.dlc, "grad", "model.dl"] + policy_args(args)
    if not run_backend(command, "ref", directory, step, result, args):
        return result
    seeds = []
    while len(seeds) < ROUNDING_PROBES:
        pair = 2 * rng.randrange(1, 2 ** 31)
        seeds += [pair, pair + 1]

    def probes(first, end):
        for probe in range(first, end):
            rc, out, _ = run(command + ["--backend", "ref", "--weights", "weights.safetensors", "--batch",
                                        "batch.safetensors", "--out", "grad_ref_probe%d.safetensors" % probe,
                                        "--step-out", "step_ref_probe%d.safetensors" % probe,
                                        "--step", str(step), "--rounding-probe", str(seeds[probe])]
                             + eval_args(directory, "ref_probe%d" % probe),
                             directory)
            if rc != 0:
                problem("dlc grad --backend ref --rounding-probe failed:\n" + out[-3000:])
                return False
        return True

    first = ROUNDING_PROBES if args.export else FIRST_ROUNDING_PROBES
    if not probes(0, first):
        return result
    reference = load_reference(directory)
    unrepeated = []  # --deterministic: what a second run changed
    for backend in args.backends:
        if not run_backend(command, backend, directory, step, result, args):
            return result
        if args.deterministic and not check_repeatable(command, backend, directory, step, unrepeated):
            result["problems"] += unrepeated
            return result
    compare_backends(args.backends, directory, result, args, reference)
    if result["problems"] and first < ROUNDING_PROBES:
        if not probes(first, ROUNDING_PROBES):
            return result
        result["problems"], result["errors"] = [], {}
        compare_backends(args.backends, directory, result, args, load_reference(directory))
    result["problems"] += unrepeated
    if args.export:
        export(case, directory, args.export)
    return result


def policy_args(args):
    return (["--precision", args.precision] if args.precision else []) + (
        ["--deterministic"] if args.deterministic else []) + (
        ["--kernels", args.kernels] if args.kernels != "generated" else [])


def check_repeatable(command, backend, directory, step, problems):
    """Under --deterministic: |backend| run again (the emulation in another
    block and thread order, DLC_SIM_SCHEDULE) must write the same bits as
    its first run, gradients, evaluation and step alike; what differs goes
    to |problems|. False when the rerun failed to run."""
    again = backend + "_again"
    seed = 1 + sum(map(ord, directory)) % 1000
    rc, out, _ = run(command + ["--backend", backend, "--weights", "weights.safetensors",
                                "--batch", "batch.safetensors", "--out", "grad_%s.safetensors" % again,
                                "--step-out", "step_%s.safetensors" % again, "--step", str(step)]
                     + eval_args(directory, again), directory,
                     env={"DLC_SIM_SCHEDULE": "random:%d" % seed})
    if rc != 0:
        problems.append("%s grad --backend %s (again, schedule random:%d) failed:\n%s" % (
            os.path.basename(command[0]), backend, seed, out[-3000:]))
        return False
    first = dict(read_outputs(directory, backend))
    first.update(("step/" + k, v) for k, v in read(os.path.join(directory, "step_%s.safetensors" % backend)).items())
    second = dict(read_outputs(directory, again))
    second.update(("step/" + k, v) for k, v in read(os.path.join(directory, "step_%s.safetensors" % again)).items())
    differ = sorted(n for n in set(first) | set(second) if first.get(n) != second.get(n))
    if differ:
        problems.append("%s: --deterministic, yet a second run (schedule random:%d) differs in %s" % (
            backend, seed, ", ".join(differ[:5])))
    return True


def load_reference(directory):
    """What every backend of the case in |directory| is compared with, read
    once: the starting weights, the reference's gradients and their rounding
    response, and its training step."""
    grads = read_outputs(directory, "ref")
    step = read(os.path.join(directory, "step_ref.safetensors"))
    return {"weights": read(os.path.join(directory, "weights.safetensors")), "grads": grads,
            "response": rounding_response(directory, grads), "step": step,
            "step_response": step_rounding_response(directory, step)}


def run_backend(command, backend, directory, step, result, args):
    """`dlc grad` (or `dlc-rt grad`) of the case in |directory| on |backend|.
    False when it failed to run."""
    rc, out, _ = run(command + ["--backend", backend, "--weights", "weights.safetensors",
                                "--batch", "batch.safetensors", "--out", "grad_%s.safetensors" % backend,
                                "--step-out", "step_%s.safetensors" % backend, "--step", str(step)]
                     + eval_args(directory, backend), directory)
    if rc != 0:
        result["problems"].append("%s grad --backend %s failed:\n%s" % (
            os.path.basename(command[0]), backend, out[-3000:]))
        return False
    return True


def compare_backends(backends, directory, result, args, reference):
    """What each of |backends| wrote in |directory| against |reference|
    (load_reference), into |result|."""
    for backend in backends:
        compare_backend(backend, directory, result, args, reference)


def compare_backend(backend, directory, result, args, reference):
    grad_ref = reference["grads"]
    grad_got = read_outputs(directory, backend)
    step_got = read(os.path.join(directory, "step_%s.safetensors" % backend))
    if args.plant:
        plant(grad_got, args.plant)
        plant(step_got, args.plant)
    g, gname, gproblem, gbefore, table = compare_grads(grad_got, grad_ref, reference["response"])
    with open(os.path.join(directory, "comparison_%s.json" % backend), "w") as f:
        json.dump(table, f)
    s, sname, sproblem = compare_steps(step_got, reference["step"], reference["weights"], grad_ref, grad_got,
                                       reference["step_response"])
    result["errors"][backend] = (g, gname, s, sname)
    for p in (gproblem, sproblem):
        if p:
            result["problems"].append("%s: %s" % (backend, p))
    if g > args.rtol:
        result["problems"].append(
            "%s: gradient '%s' differs from the reference by %.2e beyond its rounding allowance "
            "(%.2e in all; limit %.0e)" % (backend, gname, g, gbefore, args.rtol))
    if s > args.rtol:
        result["problems"].append("%s: after one step, '%s' differs from the reference by %.2e (limit %.0e)" % (
            backend, sname, s, args.rtol))


def check_exported(case, args, root):
    """An exported case (--export) on a machine without the compiler:
    `dlc-rt grad` of its CUDA bundle on each backend against the reference's
    results made where it was exported."""
    directory = os.path.join(root, case["name"])
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(case["exported"], directory)
    result = {"name": case["name"], "seed": case.get("seed"), "errors": {}, "problems": [],
              "kernels": [], "directory": directory}
    step = int(open(os.path.join(directory, "step")).read())
    reference = load_reference(directory)
    for backend in args.backends:
        if not run_backend([args.dlc_rt, "grad", "model.dlcb"], backend, directory, step, result, args):
            break
        if args.deterministic and not check_repeatable([args.dlc_rt, "grad", "model.dlcb"], backend, directory,
                                                       step, result["problems"]):
            break
        compare_backend(backend, directory, result, args, reference)
    return result


def plant(tensors, relative):
    """A planted bug: the largest element of the last tensor (a parameter
    or slot, not the loss) off by |relative| of itself."""
    name = sorted(n for n in tensors if n != "loss" and not n.startswith("evaluate/"))[-1]
    dtype, shape, values = tensors[name]
    values = list(values)
    i = max(range(len(values)), key=lambda k: abs(values[k]))
    values[i] *= 1.0 + relative
    tensors[name] = (dtype, shape, values)


def export(case, directory, root):
    """What the GPU check needs: the CUDA bundle, the data, the reference."""
    out = os.path.join(root, case["name"])
    os.makedirs(out, exist_ok=True)
    for f in ("model.dl", "model.dlcb", "case.json", "step", "weights.safetensors", "batch.safetensors",
              "grad_ref.safetensors", "step_ref.safetensors") + tuple(
                  "grad_ref_probe%d.safetensors" % p for p in range(ROUNDING_PROBES)):
        shutil.copy(os.path.join(directory, f), out)
    for f in ("evaluates", "eval_ref.safetensors") + tuple(
            "eval_ref_probe%d.safetensors" % p for p in range(ROUNDING_PROBES)):
        if os.path.exists(os.path.join(directory, f)):
            shutil.copy(os.path.join(directory, f), out)


def coverage(catalog, cases, results, kernels="generated"):
    """What the catalog registers and no case covers. A vendor library's
    kernel families count only where the cases ran with --kernels library,
    the generated kernels' families and fusions only where they ran with
    --kernels generated."""
    covered = set()
    for c in cases:
        covered.update(c["covers"])
    ops, families, fused = set(), set(), set()
    for r in results:
        for k in r["kernels"]:
            ops.update("dl." + o for o in k["ops"])
            families.update(k["families"])
            fused.add(tuple(k["ops"]))
    missing = []
    for layer in catalog["layers"]:
        if "layer:" + layer["name"] not in covered:
            missing.append("layer %s: no case" % layer["name"])
        for option in layer["options"]:
            name = "%s.%s" % (layer["name"], option["name"])
            if option["name"] in dlmodels.HOST_ONLY_OPTIONS:
                continue
            if option["type"] in ("bool", "word"):
                wanted = dlmodels.option_values(None, layer["name"], option)
                for v in wanted:
                    if "option:%s=%s" % (name, dlmodels.fmt(v)) not in covered:
                        missing.append("option %s=%s: no case" % (name, dlmodels.fmt(v)))
            elif not any(c.startswith("option:%s=" % name) or c.startswith("option:%s" % name)
                         for c in covered):
                missing.append("option %s: no case sets it" % name)
    for kind, key in (("losses", "loss"), ("optimizers", "optimizer")):
        for spec in catalog[kind]:
            if "%s:%s" % (key, spec["name"]) not in covered:
                missing.append("%s %s: no case" % (key, spec["name"]))
            for option in spec["options"]:
                if option["name"] in dlmodels.HOST_ONLY_OPTIONS:
                    continue
                prefix = "%s_option:%s.%s=" % (key, spec["name"], option["name"])
                if not any(c.startswith(prefix) for c in covered):
                    missing.append("%s option %s.%s: no case" % (key, spec["name"], option["name"]))
    if "training:several_outputs" not in covered:
        missing.append("a model with several outputs (one loss each, weighted): no case")
    for spec in catalog["schedules"]:
        if "schedule:" + spec["name"] not in covered:
            missing.append("learning-rate schedule %s: no case" % spec["name"])
        for option in spec["options"]:
            if not any(c.startswith("schedule_option:%s.%s=" % (spec["name"], option["name"])) for c in covered):
                missing.append("learning-rate schedule option %s.%s: no case" % (spec["name"], option["name"]))
    for spec in catalog["loss_scales"]:
        if "loss_scale:" + spec["name"] not in covered:
            missing.append("loss scale %s: no case" % spec["name"])
        for option in spec["options"]:
            prefix = "loss_scale_option:%s.%s=" % (spec["name"], option["name"])
            if not any(c.startswith(prefix) for c in covered):
                missing.append("loss scale option %s.%s: no case" % (spec["name"], option["name"]))
    for dtype in catalog["element_types"]:
        if dtype in dlmodels.INPUT_FLOAT_TYPES and "input_dtype:" + dtype not in covered:
            missing.append("input element type %s: no case" % dtype)
    missing += ["input element type %s: the catalog lists no such type" % t
                for t in dlmodels.INPUT_FLOAT_TYPES if t not in catalog["element_types"]]
    for transform in catalog["data_transforms"]:
        if not transform["in_training_step"]:
            continue  # the loader's alone: resize, random_crop (runtime unit tests)
        if "data_transform:" + transform["name"] not in covered:
            missing.append("data transform %s: no case" % transform["name"])
        for option in transform["options"]:
            for word in option.get("words", []):
                if "data_transform_option:%s.%s=%s" % (transform["name"], option["name"], word) not in covered:
                    missing.append("data transform option %s.%s=%s: no case" % (transform["name"], option["name"], word))
    for metric in catalog["metrics"]:
        if "metric:" + metric["name"] not in covered:
            missing.append("metric %s: no case" % metric["name"])
    for op in catalog["ops"]:
        if op["name"] not in ops and op["name"] not in STRUCTURAL_OPS:
            missing.append("op %s: in no kernel of any case" % op["name"])
    for family in catalog["kernel_families"]:
        # Each run answers for its own kind: the generated kernels' families
        # under --kernels generated (a library displaces some of them, the
        # LSTM's wholly), the libraries' under --kernels library.
        if bool(family.get("library")) != (kernels == "library"):
            continue
        if "%s.%s" % (family["target"], family["name"]) not in families:
            missing.append("%s kernel family %s: chosen for no case" % (family["target"], family["name"]))
    # Every activation fused into each epilogue position it may take, where
    # dlc's own kernels run them (a library call leaves them to kernels of
    # their own: dlc-fuse).
    activations = [a for a in dlmodels.Catalog(catalog).activations if a not in ("linear",)]
    ops_of = {"softmax": "softmax"}
    for a in activations if kernels == "generated" else []:
        op = ops_of.get(a, a)
        # softmax joins a dense kernel only (a row epilogue); elementwise ops join both.
        for anchor in ("dense",) if op == "softmax" else ("dense", "conv2d"):
            if not any(k[0] == anchor and op in k[1:] for k in fused):
                missing.append("fusion %s+%s: no kernel holds both" % (anchor, op))
        if op != "softmax":
            for pool in ("max_pool2d", "avg_pool2d"):
                if not any(k[0] == "conv2d" and op in k and k[-1] == pool for k in fused):
                    missing.append("fusion conv2d+%s+%s: no kernel holds them" % (op, pool))
            if not any(k[0] == "dense" and op in k and "dropout" in k for k in fused):
                missing.append("fusion dense+%s+dropout: no kernel holds them" % op)
    return missing, {"ops": len(ops), "families": len(families), "kernel_patterns": len(fused)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlc", help="the dlc binary (compiles and runs each case)")
    parser.add_argument("--exported", help="run the cases --export wrote here with dlc-rt (no compiler)")
    parser.add_argument("--dlc-rt", dest="dlc_rt", help="the dlc-rt binary (for --exported)")
    parser.add_argument("--conformance", action="store_true")
    parser.add_argument("--fuzz", type=int, default=0, help="number of random models")
    parser.add_argument("--seed", type=int, help="first fuzz seed (default: from the clock)")
    parser.add_argument("--models", nargs="*", default=[], help=".dl files with a case.json beside or none")
    parser.add_argument("--backends", default="cpu,cuda-sim,cuda",
                        help="besides ref; cuda is skipped, saying why, where no GPU answers")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--precision", default="",
                        help="compile and run every case under this policy (fp32, mixed_fp16, "
                             "mixed_bf16, tf32; default: each case's own)")
    parser.add_argument("--deterministic", action="store_true",
                        help="compile and run every case with --deterministic, and run each backend "
                             "twice (the emulation in another block order): the bits must agree")
    parser.add_argument("--kernels", default="generated", choices=("generated", "library", "auto"),
                        help="compile and run every case with --kernels (library: cuBLASLt's matmul "
                             "where it runs a product, cuDNN where it runs a convolution; the emulation "
                             "runs their references)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-nvrtc", dest="nvrtc", action="store_false",
                        help="skip compiling each model's kernels with NVRTC")
    parser.add_argument("--coverage", action="store_true", help="fail when the catalog has uncovered entries")
    parser.add_argument("--filter", default="",
                        help="only cases whose name contains this (or one of A|B|...)")
    parser.add_argument("--every", type=int, default=1,
                        help="only every Nth of those cases, by name (a sample that keeps every "
                             "kind of case: a check of the check)")
    parser.add_argument("--keep", help="copy each failing case here")
    parser.add_argument("--export", help="write each case's bundle, data and reference results here")
    parser.add_argument("--work", help="working directory (default: a temporary one)")
    parser.add_argument("--plant", type=float, default=0.0,
                        help="test the test: put a relative error this large into one gradient "
                             "and one step value of each backend's results")
    args = parser.parse_args()
    args.backends = [b for b in args.backends.split(",") if b and b != "ref"]
    if "cuda" in args.backends:
        why = no_gpu()
        if why:
            print("cuda: skipped: %s" % why)
            args.backends.remove("cuda")
    # Cases run in their own directories: a bare name is looked up on PATH.
    def located(tool):
        return os.path.abspath(tool if os.sep in tool else shutil.which(tool) or tool)

    cases = []
    if args.exported:
        if not args.dlc_rt:
            parser.error("--exported needs --dlc-rt")
        args.dlc_rt = located(args.dlc_rt)
        for name in sorted(os.listdir(args.exported)):
            path = os.path.join(args.exported, name)
            if os.path.exists(os.path.join(path, "model.dlcb")):
                cases.append({"name": name, "exported": path})
        return run_cases(cases, args, check_exported, None)
    if not args.dlc:
        parser.error("--dlc is required")
    args.dlc = located(args.dlc)
    rc, out, _ = run([args.dlc, "catalog", "--json"], ".")
    if rc != 0:
        print(out)
        return 2
    catalog = json.loads(out)
    if args.conformance:
        cases += conformance_cases.conformance_cases(catalog)
    if args.fuzz:
        seed = args.seed if args.seed is not None else int(time.time()) % 1000000 * 1000
        print("fuzz seeds %d..%d (rerun one with --fuzz 1 --seed S)" % (seed, seed + args.fuzz - 1))
        for s in range(seed, seed + args.fuzz):
            case = dlmodels.random_model(catalog, s)
            case["seed"] = s
            cases.append(case)
    for path in args.models:
        meta = os.path.join(os.path.dirname(path), "case.json")
        case = json.load(open(meta)) if os.path.exists(meta) else {}
        case["text"] = open(path).read()
        case.setdefault("name", os.path.basename(os.path.dirname(os.path.abspath(path))))
        cases.append(case)
    return run_cases(cases, args, check_case, catalog)


def run_cases(cases, args, check, catalog):
    cases = [c for c in cases if any(part in c["name"] for part in args.filter.split("|"))]
    cases = sorted(cases, key=lambda c: c["name"])[::max(1, args.every)]
    root = args.work or tempfile.mkdtemp(prefix="dlc-backends-")
    start = time.time()
    results = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(check, c, args, root): c for c in cases}
        for future in concurrent.futures.as_completed(futures):
            case = futures[future]
            try:
                r = future.result()
            except Exception as e:  # a harness bug must not pass as a success
                r = {"name": case["name"], "seed": case.get("seed"), "errors": {},
                     "problems": ["harness error: %r" % e], "kernels": [], "directory": ""}
            results.append(r)
            errs = " ".join("%s %.1e/%.1e" % (b, e[0], e[2]) for b, e in sorted(r["errors"].items()))
            status = "FAIL" if r["problems"] else "skip" if r.get("skipped") else "ok"
            print("%-4s %-52s %s" % (status, r["name"], errs), flush=True)
            for p in r["problems"]:
                print("     " + p.replace("\n", "\n     "))
            if r["problems"]:
                print("     seed %s; model and data in %s" % (r["seed"], r["directory"]))
                if args.keep and r["directory"]:
                    dest = os.path.join(args.keep, r["name"])
                    shutil.rmtree(dest, ignore_errors=True)
                    shutil.copytree(r["directory"], dest)
                    print("     kept in " + dest)
    failed = [r for r in results if r["problems"]]
    skipped = sum(1 for r in results if r.get("skipped") and not r["problems"])
    worst = {}
    for r in results:
        for b, e in r["errors"].items():
            worst[b] = max(worst.get(b, 0.0), e[0], e[2])
    print("\n%d models, %d failed%s, %.0f s; largest relative error (gradients beyond their rounding "
          "allowance, and one step): %s" % (
        len(results), len(failed),
        ", %d skipped (%s)" % (skipped, next(r["skipped"] for r in results if r.get("skipped"))) if skipped else "",
        time.time() - start,
        ", ".join("%s %.1e" % kv for kv in sorted(worst.items())) or "-"))
    status = 1 if failed else 0
    if args.coverage:
        missing, counts = coverage(catalog, cases, results, args.kernels)
        print("coverage: %d cases, %d dl ops in kernels, %d kernel families, %d distinct kernel op lists" % (
            len(cases), counts["ops"], counts["families"], counts["kernel_patterns"]))
        for m in missing:
            print("  not covered: " + m)
        if missing:
            status = 1
    if not args.work and not failed:
        shutil.rmtree(root, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
