#!/usr/bin/env python3
"""dlc vs PyTorch vs Keras/TensorFlow on the CPU: one table, measured in one run.

    python3 bench/run_benchmarks.py [--dlc PATH] [--only dlc,torch,keras] [--quick] [--markdown]

Every measurement runs in its own subprocess (frameworks never share a process, a thread
pool or state), pinned to --threads threads (2). See bench/README.md."""

import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)

MODEL_FILES = {"cnn": "examples/mnist_cnn.dl", "lstm": "examples/text_lstm.dl"}
MODEL_TITLES = {"cnn": "MNIST CNN", "lstm": "Text LSTM"}


class Row:
    def __init__(self, model, mode, batch, metric):
        self.model, self.mode, self.batch, self.metric = model, mode, batch, metric

    @property
    def label(self):
        unit = "samples/s" if self.metric == "throughput" else "ms, median"
        return "%s %s, batch %d (%s)" % (MODEL_TITLES[self.model], self.mode, self.batch, unit)

    @property
    def key(self):
        return "%s/%s/b%d" % (self.model, self.mode, self.batch)


ROWS = [
    Row("cnn", "train", 128, "throughput"),
    Row("lstm", "train", 128, "throughput"),
    Row("cnn", "infer", 128, "throughput"),
    Row("lstm", "infer", 128, "throughput"),
    Row("cnn", "infer", 1, "latency"),
    Row("lstm", "infer", 1, "latency"),
]

# Column order in the table; "group" is what --only selects.
COLUMNS = [
    ("dlc", "dlc", "dlc"),
    ("torch", "torch", "PyTorch"),
    ("keras", "keras", "Keras/TF"),
    ("keras-xla", "keras", "Keras/TF XLA"),
]


class Unavailable(Exception):
    """A measurement (or a whole column) that cannot be made; str() is the reason."""


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def last_json(stdout):
    """The last line of stdout that is a JSON object with samples_per_sec."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and "samples_per_sec" in obj and "ms_per_step" in obj:
                return obj
    return None


def short_reason(proc_or_text):
    if isinstance(proc_or_text, subprocess.CompletedProcess):
        text = (proc_or_text.stderr or "") + (proc_or_text.stdout or "")
        prefix = "exit %d" % proc_or_text.returncode
    else:
        text, prefix = proc_or_text, ""
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    # Prefer an error line; else the last line.
    pick = next((l for l in lines if "error" in l.lower()), lines[-1] if lines else "")
    pick = pick[:120]
    return ("%s: %s" % (prefix, pick)) if prefix and pick else (prefix or pick or "failed")


def run(cmd, env, timeout):
    try:
        return subprocess.run(cmd, env=env, cwd=ROOT, timeout=timeout, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired:
        raise Unavailable("timed out after %d s" % timeout)
    except OSError as e:
        raise Unavailable(str(e))


# ---------------------------------------------------------------------------- runners

class DlcRunner:
    """`dlc bench MODEL.dl --batch N --mode M --steps S --warmup W --json`, one call per
    repetition after a short probe that sizes S so a repetition runs >= min_time."""

    name = "dlc"

    def __init__(self, path, cfg, env):
        self.path, self.cfg, self.env = path, cfg, env
        self.version = None

    def check(self):
        if not (os.path.isfile(self.path) and os.access(self.path, os.X_OK)):
            raise Unavailable("no dlc binary at %s (build it, or pass --dlc)" % self.path)
        # A dlc without the `bench` subcommand: say so once instead of failing every row.
        try:
            proc = subprocess.run([self.path, "--help"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=60)
            helptext = proc.stdout
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Unavailable("%s does not run (%s)" % (self.path, e))
        if "Subcommands:" in helptext and not re.search(r"^\s+bench\b", helptext, re.M):
            raise Unavailable("%s has no `bench` subcommand yet" % self.path)
        rel = os.path.relpath(os.path.abspath(self.path), ROOT)
        self.version = os.path.abspath(self.path) if rel.startswith("..") else rel
        try:
            rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 timeout=30).stdout.strip()
            if rev:
                self.version += " (git %s)" % rev
        except (OSError, subprocess.TimeoutExpired):
            pass

    def _call(self, row, steps):
        cmd = [self.path, "bench", MODEL_FILES[row.model], "--batch", str(row.batch),
               "--mode", row.mode, "--steps", str(steps), "--warmup", str(self.cfg.warmup),
               "--json"]
        proc = run(cmd, self.env, self.cfg.timeout)
        obj = last_json(proc.stdout) if proc.returncode == 0 else None
        if obj is None:
            raise Unavailable("`%s` %s" % (" ".join(cmd[1:3]), short_reason(proc)))
        return obj

    def measure(self, row):
        probe = self._call(row, 3)
        steps = max(5, int(math.ceil(self.cfg.min_time * 1000.0 / max(probe["ms_per_step"], 1e-6))))
        ms = [float(self._call(row, steps)["ms_per_step"]) for _ in range(self.cfg.reps)]
        med = statistics.median(ms)
        return {"framework": "dlc", "model": row.model, "mode": row.mode, "batch": row.batch,
                "steps": steps, "warmup": self.cfg.warmup, "reps": self.cfg.reps,
                "ms_per_step": med, "samples_per_sec": row.batch * 1000.0 / med,
                "ms_per_step_reps": ms}


class PeerRunner:
    """A worker script (peer_torch.py / peer_keras.py) under a given interpreter."""

    def __init__(self, name, python, script, extra, cfg, env):
        self.name, self.python, self.script = name, python, script
        self.extra, self.cfg, self.env = extra, cfg, env
        self.version = None

    def measure(self, row):
        cmd = [self.python, os.path.join(BENCH, self.script), "--model", row.model,
               "--mode", row.mode, "--batch", str(row.batch), "--warmup", str(self.cfg.warmup),
               "--min-time", str(self.cfg.min_time), "--reps", str(self.cfg.reps)] + self.extra
        proc = run(cmd, self.env, self.cfg.timeout)
        obj = last_json(proc.stdout) if proc.returncode == 0 else None
        if obj is None:
            raise Unavailable(short_reason(proc))
        self.version = obj.get("version", self.version)
        return obj


def python_has(python, modules, env):
    try:
        proc = subprocess.run([python, "-c", "import %s" % ", ".join(modules)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def keras_python(cfg, env):
    """The interpreter with tensorflow + keras: --keras-python, or bench/.venv, which is
    created and filled with `pip install tensorflow-cpu` if it is absent."""
    if cfg.keras_python:
        if python_has(cfg.keras_python, ["tensorflow", "keras"], env):
            return cfg.keras_python
        raise Unavailable("not installed (%s lacks tensorflow/keras)" % cfg.keras_python)
    venv = os.path.join(BENCH, ".venv")
    py = os.path.join(venv, "bin", "python")
    if os.path.exists(py) and python_has(py, ["tensorflow", "keras"], env):
        return py
    if cfg.no_install:
        raise Unavailable("not installed (no bench/.venv with tensorflow; --no-install given)")
    log("installing tensorflow-cpu into bench/.venv (one time, ~1 min) ...")
    base = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    steps = []
    if not os.path.exists(py):
        steps.append([base, "-m", "venv", venv])
    steps.append([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  "tensorflow-cpu"])
    for cmd in steps:
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Unavailable("not installed (%s)" % e)
        if proc.returncode != 0:
            log(proc.stdout[-2000:])
            raise Unavailable("not installed (%s failed)" % " ".join(cmd[1:4]))
    if not python_has(py, ["tensorflow", "keras"], env):
        raise Unavailable("not installed (tensorflow does not import in bench/.venv)")
    return py


# ---------------------------------------------------------------------------- table

def fmt_value(row, res):
    if row.metric == "throughput":
        return "{:,.0f}".format(res["samples_per_sec"])
    ms = res["ms_per_step"]
    return "%.3f" % ms if ms < 1 else "%.2f" % ms


def speedup(row, dlc, peer):
    """> 1 means dlc is faster (higher throughput, or lower latency)."""
    if row.metric == "throughput":
        return dlc["samples_per_sec"] / peer["samples_per_sec"]
    return peer["ms_per_step"] / dlc["ms_per_step"]


def render_text(header, body):
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    def fmt(r):
        return "  ".join((r[0].ljust(widths[0]),) +
                         tuple(c.rjust(w) for c, w in zip(r[1:], widths[1:])))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep] + [fmt(r) for r in body])


def render_markdown(header, body):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(out)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def loadavg():
    try:
        return "%.2f" % os.getloadavg()[0]
    except OSError:
        return "?"


# ---------------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dlc", default=os.path.join(ROOT, "build/tools/dlc/dlc"),
                   help="dlc binary (default: build/tools/dlc/dlc)")
    p.add_argument("--only", default="dlc,torch,keras",
                   help="comma-separated subset of dlc, torch, keras (keras = both Keras columns)")
    p.add_argument("--models", default="cnn,lstm", help="comma-separated subset of cnn, lstm")
    p.add_argument("--quick", action="store_true",
                   help="development run: 1 repetition of >= 0.5 s, 2 warm-up steps")
    p.add_argument("--markdown", action="store_true", help="print the table as GitHub markdown")
    p.add_argument("--json-out", metavar="FILE", help="also write every raw result to FILE")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-time", type=float, default=3.0,
                   help="seconds per timed repetition, at least (default 3)")
    p.add_argument("--reps", type=int, default=3, help="repetitions; the median is reported")
    p.add_argument("--warmup", type=int, default=5, help="warm-up steps before timing")
    p.add_argument("--timeout", type=int, default=1200, help="seconds per subprocess")
    p.add_argument("--omp-wait-policy", choices=("passive", "active", "unset"),
                   default="passive",
                   help="OMP_WAIT_POLICY for every subprocess (default passive: OpenMP threads "
                        "that spin while waiting make PyTorch, and any OpenMP runtime, 5-20x "
                        "slower when other processes share the cores; 'unset' = libgomp's "
                        "spin-then-sleep default)")
    p.add_argument("--torch-python", default="/usr/bin/python3",
                   help="interpreter with Debian's python3-torch")
    p.add_argument("--keras-python", help="interpreter with tensorflow+keras (default bench/.venv)")
    p.add_argument("--no-install", action="store_true",
                   help="do not create bench/.venv / pip install tensorflow-cpu")
    args = p.parse_args(argv)
    if args.quick:
        args.min_time, args.reps, args.warmup = min(args.min_time, 0.5), 1, 2
    args.only = set(s.strip() for s in args.only.split(",") if s.strip())
    bad = args.only - {"dlc", "torch", "keras"}
    if bad:
        p.error("--only: unknown %s" % ", ".join(sorted(bad)))
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    if set(args.models) - set(MODEL_FILES):
        p.error("--models: choose from cnn, lstm")
    return args


def subprocess_env(cfg):
    env = dict(os.environ)
    n = str(cfg.threads)
    env.update({
        "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n,
        "BENCH_THREADS": n, "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow", "PYTHONHASHSEED": "0",
    })
    env.pop("OMP_WAIT_POLICY", None)
    if cfg.omp_wait_policy != "unset":
        env["OMP_WAIT_POLICY"] = cfg.omp_wait_policy.upper()
    return env


def main(argv=None):
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    t_start = time.time()
    load_start = loadavg()
    env = subprocess_env(cfg)
    cols = [c for c in COLUMNS if c[1] in cfg.only]
    rows = [r for r in ROWS if r.model in cfg.models]
    titles = dict((c, t) for c, _, t in cols)

    # Set up each column; a column that cannot run gets its reason in every cell.
    runners, column_reason = {}, {}
    for c, group, _ in cols:
        try:
            if c == "dlc":
                r = DlcRunner(cfg.dlc, cfg, env)
                r.check()
            elif c == "torch":
                if not python_has(cfg.torch_python, ["torch"], env):
                    raise Unavailable("not installed")
                r = PeerRunner("torch", cfg.torch_python, "peer_torch.py", [], cfg, env)
            else:
                py = keras_python(cfg, env)
                r = PeerRunner(c, py, "peer_keras.py", ["--xla"] if c == "keras-xla" else [],
                               cfg, env)
            runners[c] = r
        except Unavailable as e:
            column_reason[c] = str(e)
            log("%s: %s" % (c, e))

    # Row-major order: the frameworks of one row are measured close together in time, so
    # drifting background load affects them alike.
    results = {c: {} for c, _, _ in cols}
    failures = []
    total = len(rows) * len(runners)
    done = 0
    for row in rows:
        for c, _, _ in cols:
            if c in column_reason:
                results[c][row.key] = "n/a" if c == "dlc" else (
                    "not installed" if "not installed" in column_reason[c] else "n/a")
                continue
            done += 1
            t0 = time.time()
            try:
                res = runners[c].measure(row)
                results[c][row.key] = res
                log("[%d/%d] %-9s %-24s %s %s  (%.0f s)" % (
                    done, total, c, row.key, fmt_value(row, res),
                    "samples/s" if row.metric == "throughput" else "ms", time.time() - t0))
            except Unavailable as e:
                results[c][row.key] = "n/a"
                failures.append("%s %s: %s" % (titles[c], row.key, e))
                log("[%d/%d] %-9s %-24s n/a: %s" % (done, total, c, row.key, e))

    # Ratio column: dlc / best peer, oriented so that > 1 means dlc is faster.
    show_ratio = "dlc" in cfg.only and len(cols) > 1
    header = ["benchmark"] + [titles[c] for c, _, _ in cols] + (
        ["dlc vs best peer"] if show_ratio else [])
    body = []
    for row in rows:
        line = [row.label]
        for c, _, _ in cols:
            res = results[c][row.key]
            if isinstance(res, dict):
                cell = fmt_value(row, res)
                if res.get("memory_format") == "channels_last":
                    cell += " *"
                line.append(cell)
            else:
                line.append(res)
        if show_ratio:
            dlc = results["dlc"][row.key]
            peers = [(c, results[c][row.key]) for c, _, _ in cols
                     if c != "dlc" and isinstance(results[c][row.key], dict)]
            if isinstance(dlc, dict) and peers:
                best_c, best = max(peers, key=lambda p: p[1]["samples_per_sec"])
                line.append("%.2fx vs %s" % (speedup(row, dlc, best), titles[best_c]))
            else:
                line.append("n/a")
        body.append(line)

    elapsed = time.time() - t_start
    versions = []
    for c, r in runners.items():
        if c == "keras-xla":
            continue
        if r.version:
            versions.append("%s %s" % ({"torch": "PyTorch", "keras": "Keras/TF"}.get(c, c),
                                       r.version))
    info = [
        "%s; %d threads per framework (OMP/MKL/OpenBLAS %d; TF intra-op %d, inter-op 1); "
        "OMP_WAIT_POLICY %s" % (cpu_model(), cfg.threads, cfg.threads, cfg.threads,
                                cfg.omp_wait_policy.upper()),
        "versions: " + ("; ".join(versions) if versions else "-"),
        "each cell: median of %d repetition%s of >= %.1f s after %d warm-up steps; synthetic "
        "data, fixed seed; batch-1 latency = wall time per call" % (
            cfg.reps, "" if cfg.reps == 1 else "s", cfg.min_time, cfg.warmup),
        "training = forward + backward + Adam(1e-3) update, categorical crossentropy",
        "load average %s at start, %s at end; %s; whole run %.0f s" % (
            load_start, loadavg(), datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), elapsed),
    ]
    if any(isinstance(results.get("torch", {}).get(r.key), dict) and
           results["torch"][r.key].get("memory_format") == "channels_last" for r in rows):
        info.append("* PyTorch CNN ran channels_last (the faster of contiguous and "
                    "channels_last in a short probe)")
    if show_ratio:
        info.append("dlc vs best peer: dlc throughput / best peer's, or best peer's latency / "
                    "dlc's; > 1 = dlc faster")
    for c, reason in column_reason.items():
        info.append("%s: %s" % (titles[c], reason))
    for reason in sorted(set(failures), key=failures.index):
        info.append(reason)

    if cfg.markdown:
        print(render_markdown(header, body))
        print()
        for line in info:
            print("- " + line)
    else:
        print(render_text(header, body))
        print()
        for line in info:
            print(line)

    if cfg.json_out:
        with open(cfg.json_out, "w") as f:
            json.dump({"info": info, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
