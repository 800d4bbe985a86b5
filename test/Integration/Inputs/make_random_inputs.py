"""make_random_inputs.py INSPECT.json PROGRAM OUT_DIR: deterministic inputs for any
model from `dlc inspect --json` of its bundle:
  OUT_DIR/weights.safetensors  every parameter (Glorot-like scale for kernels)
  OUT_DIR/batch.safetensors    the inputs of PROGRAM; one-hot labels (class ids where the
                               program takes them); integer inputs
                               (token ids) in [0, 5), so that ids repeat"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
from safetensors_io import write  # noqa: E402


def values(count, seed, scale):
    """A fixed pseudo-random sequence in [-scale, scale] (no dependence on Python's random)."""
    return [scale * math.sin(seed * 12.9898 + i * 78.233) for i in range(count)]


def shape_of(text):
    return [int(d) for d in text.strip("[]").split(",") if d]


bundle = json.load(open(sys.argv[1]))
program = next(p for p in bundle["programs"] if p["name"] == sys.argv[2])
out = sys.argv[3]
weights = {}
# Optimizer slots ("<param>/m") are state, not parameters of the model.
slots = {n["name"] for n in bundle["parameters"] if any(
    n["name"].startswith(o["name"] + "/") for o in bundle["parameters"] if o is not n)}
for seed, p in enumerate(bundle["parameters"], start=1):
    if p["name"] in slots:
        continue
    shape = shape_of(p["shape"])
    count = math.prod(shape)
    fan = shape[-1] + (count // shape[-1] if len(shape) > 1 else 0)
    weights[p["name"]] = ("F32", shape, values(count, seed, math.sqrt(6.0 / max(fan, 1))))
write(os.path.join(out, "weights.safetensors"), weights)
batch = {}
for seed, t in enumerate(program["inputs"], start=1000):
    shape = shape_of(t["shape"])
    count = math.prod(shape)
    if t["name"] == "labels" and t["dtype"] in ("i32", "i64"):
        # Class ids (dlc-class-id-labels), below the prediction's classes.
        infer = next(p for p in bundle["programs"] if p["name"] == "infer")
        classes = shape_of(infer["outputs"][0]["shape"])[-1]
        batch["labels"] = (t["dtype"].upper(), shape, [(7 * r) % classes for r in range(count)])
    elif t["name"] == "labels":
        classes = shape[-1]
        batch["labels"] = ("F32", shape, [1.0 if c == (7 * r) % classes else 0.0
                                          for r in range(count // classes) for c in range(classes)])
    elif t["dtype"] == "f32":
        batch[t["name"]] = ("F32", shape, values(count, seed, 1.0))
    elif t["dtype"] in ("i32", "i64"):
        batch[t["name"]] = (t["dtype"].upper(), shape, [(7 * i + i // 3) % 5 for i in range(count)])
write(os.path.join(out, "batch.safetensors"), batch)
