#!/usr/bin/python3
"""Images/s through decode + augment: dlc's training input pipeline against
tf.data and torchvision's DataLoader on the same image folder, side by side
in one run. Standard library only; each pipeline runs in its own process.

    python3 bench/data_pipeline.py                 # ~40 s on 2 cores (+ making the folder once)
    python3 bench/data_pipeline.py --quick         # one short repetition each
    python3 bench/data_pipeline.py --images 2048 --dlc build/tools/dlc/dlc

The folder: --images JPEGs (quality 90, 320x240 RGB, smooth random content)
in 4 class sub-folders, made once under /tmp. The pipeline, the same in all
three: decode the JPEG, resize to 256x256 (bilinear), random 224x224 crop,
random horizontal flip, x / 255, normalize by ImageNet's mean and std,
batches of 32 float32 images, shuffled, in training order.

  dlc          `dlc bench M.dl --mode data`: image_folder(image_size=(256,
               256)) and the data section's random_crop, random_flip,
               rescale, normalize; the trainer's own loader (a prefetch
               worker thread, OpenMP over a batch's images)
  tf.data      list_files -> map(read, decode_jpeg, resize, crop, flip,
               normalize; num_parallel_calls=AUTOTUNE) -> batch ->
               prefetch, private thread pool of 2 (tensorflow-cpu in
               bench/.venv, made by run_benchmarks.py or here)
  torchvision  ImageFolder + Compose(Resize, RandomCrop, RandomHorizontal
               Flip, ToTensor, Normalize), DataLoader(num_workers=2)
               (Debian's python3-torchvision via /usr/bin/python3)

Every process gets 2 threads (OMP/MKL/OPENBLAS_NUM_THREADS=2). Each cell: 3
warm-up batches, then batches for >= 3 s, median of 3 repetitions. The last
column is dlc's images/s over the peer's (> 1: dlc faster).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
BATCH = 32
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

MODEL = """model pipeline {{
  input image: [224, 224, 3]
  global_avg_pool2d()
  dense(4, activation=softmax)
}}
train pipeline {{
  loss = sparse_categorical_crossentropy
  optimizer = sgd
  batch_size = {batch}
  data {{
    source = image_folder("{folder}", image_size=(256, 256))
    validation = 0.1
    random_crop(224, 224)
    random_flip(mode=horizontal)
    rescale(1 / 255)
    normalize(mean=({m0}, {m1}, {m2}), std=({s0}, {s1}, {s2}))
  }}
}}
"""

# The peers' timing, after their set-up has made the batch iterator `it`:
# 3 warm-up batches, then 3 repetitions of >= |batches| batches and >= |seconds|.
MEASURE = r"""
for _ in range(3):
    next(it)
reps = []
for _ in range(3):
    n, start = 0, time.perf_counter()
    while n < batches or time.perf_counter() - start < seconds:
        x, y = next(it); n += 1
    reps.append(n * %d / (time.perf_counter() - start))
print(json.dumps({"images_per_sec": reps}))
""" % BATCH

TF_WORKER = r"""
import json, sys, time, glob, os
import tensorflow as tf
folder, batches, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
classes = sorted(os.listdir(folder))
files = sorted(glob.glob(os.path.join(folder, "*", "*.jpg")))
labels = [classes.index(os.path.basename(os.path.dirname(f))) for f in files]
mean = tf.constant(%(mean)r); std = tf.constant(%(std)r)
def load(path, label):
    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    image = tf.image.resize(image, (256, 256), method="bilinear")
    image = tf.image.random_crop(image, (224, 224, 3))
    image = tf.image.random_flip_left_right(image)
    return (image / 255.0 - mean) / std, label
options = tf.data.Options()
options.threading.private_threadpool_size = 2
ds = (tf.data.Dataset.from_tensor_slices((files, labels)).shuffle(len(files), seed=1)
      .map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(%(batch)d, drop_remainder=True)
      .prefetch(tf.data.AUTOTUNE).repeat().with_options(options))
it = iter(ds)
""" % {"mean": MEAN, "std": STD, "batch": BATCH} + MEASURE

TORCH_WORKER = r"""
import json, sys, time
import torch
from torchvision import datasets, transforms
torch.set_num_threads(1)
folder, batches, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
pipeline = transforms.Compose([
    transforms.Resize((256, 256)), transforms.RandomCrop(224), transforms.RandomHorizontalFlip(),
    transforms.ToTensor(), transforms.Normalize(%(mean)r, %(std)r)])
loader = torch.utils.data.DataLoader(datasets.ImageFolder(folder, transform=pipeline),
                                     batch_size=%(batch)d, shuffle=True, num_workers=2,
                                     drop_last=True, persistent_workers=True, prefetch_factor=2)
def batches_forever():
    while True:
        for batch in loader:
            yield batch
it = batches_forever()
""" % {"mean": MEAN, "std": STD, "batch": BATCH} + MEASURE


def log(message):
    print(message, file=sys.stderr, flush=True)


def make_folder(count):
    """count JPEGs in 4 classes under /tmp, made once (Debian's numpy and PIL)."""
    folder = os.path.join(tempfile.gettempdir(), "dlc-bench-images-%d" % count)
    if os.path.exists(os.path.join(folder, ".complete")):
        return folder
    log("making %d JPEGs in %s ..." % (count, folder))
    script = r"""
import os, sys
import numpy as np
from PIL import Image
folder, count = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
for i in range(count):
    d = os.path.join(folder, "class%d" % (i % 4))
    os.makedirs(d, exist_ok=True)
    coarse = rng.uniform(0, 255, (15, 20, 3)).astype(np.uint8)
    image = Image.fromarray(coarse).resize((320, 240), Image.BILINEAR)
    noise = rng.normal(0, 8, (240, 320, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(d, "%05d.jpg" % i), quality=90)
open(os.path.join(folder, ".complete"), "w").close()
"""
    subprocess.run(["/usr/bin/python3", "-c", script, folder, str(count)], check=True)
    return folder


def environment():
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = "2"
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def run_json(cmd, env, timeout=900):
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["failed"])
    for line in reversed(proc.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON output")


def measure_dlc(dlc, folder, batches, seconds, repetitions, env):
    work = tempfile.mkdtemp(prefix="dlc-bench-data-")
    model = os.path.join(work, "pipeline.dl")
    with open(model, "w") as f:
        f.write(MODEL.format(batch=BATCH, folder=folder, m0=MEAN[0], m1=MEAN[1], m2=MEAN[2],
                             s0=STD[0], s1=STD[1], s2=STD[2]))
    bundle = os.path.join(work, "pipeline.dlcb")
    subprocess.run([dlc, "compile", model, "-o", bundle], check=True, env=env, stdout=subprocess.DEVNULL)
    # Size a repetition to >= |seconds| from a short probe.
    probe = run_json([dlc, "bench", bundle, "--mode", "data", "--backend", "cpu", "--steps", "4",
                      "--warmup", "3", "--json"], env)
    steps = max(batches, int(seconds * probe["samples_per_sec"] / BATCH) + 1)
    reps = []
    for _ in range(repetitions):
        result = run_json([dlc, "bench", bundle, "--mode", "data", "--backend", "cpu", "--steps",
                           str(steps), "--warmup", "3", "--json"], env)
        reps.append(result["samples_per_sec"])
    return reps


def tf_python(env, install):
    py = os.path.join(BENCH, ".venv", "bin", "python")
    check = lambda: os.path.exists(py) and subprocess.run(  # noqa: E731
        [py, "-c", "import tensorflow"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL).returncode == 0
    if check():
        return py
    if not install:
        raise RuntimeError("not installed (no bench/.venv with tensorflow)")
    log("installing tensorflow-cpu into bench/.venv (one time) ...")
    if not os.path.exists(py):
        subprocess.run(["/usr/bin/python3", "-m", "venv", os.path.join(BENCH, ".venv")], check=True)
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "tensorflow-cpu"],
                   check=True)
    if not check():
        raise RuntimeError("tensorflow does not import in bench/.venv")
    return py


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dlc", default=os.path.join(ROOT, "build", "tools", "dlc", "dlc"))
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="one short repetition per pipeline")
    parser.add_argument("--no-install", action="store_true", help="do not pip install tensorflow-cpu")
    parser.add_argument("--only", default="dlc,tf.data,torchvision")
    args = parser.parse_args()
    env = environment()
    folder = make_folder(args.images)
    seconds, repetitions = (1.0, 1) if args.quick else (3.0, 3)
    batches = 4 if args.quick else 10
    results = {}
    wanted = args.only.split(",")
    load = os.getloadavg()[0]
    for name in ("dlc", "tf.data", "torchvision"):
        if name not in wanted:
            continue
        log("measuring %s ..." % name)
        try:
            if name == "dlc":
                reps = measure_dlc(args.dlc, folder, batches, seconds, repetitions, env)
            elif name == "tf.data":
                reps = run_json([tf_python(env, not args.no_install), "-c", TF_WORKER, folder,
                                 str(batches), str(seconds)], env)["images_per_sec"]
            else:
                reps = run_json(["/usr/bin/python3", "-c", TORCH_WORKER, folder, str(batches),
                                 str(seconds)], env)["images_per_sec"]
            results[name] = statistics.median(reps[:repetitions])
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            results[name] = "n/a (%s)" % (e,)
    print("decode + resize 256 + random crop 224 + flip + normalize, batch %d, %d JPEGs 320x240, 2 threads"
          % (BATCH, args.images))
    print("| pipeline | images/s | dlc / this |")
    print("|---|---:|---:|")
    ours = results.get("dlc")
    for name, value in results.items():
        if isinstance(value, str):
            print("| %s | %s | |" % (name, value))
            continue
        ratio = "%.2f" % (ours / value) if isinstance(ours, float) else ""
        print("| %s | %.0f | %s |" % (name, value, ratio))
    print("load average %.2f at the start, %.2f at the end" % (load, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
