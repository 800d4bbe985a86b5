"""make_mlp_inputs.py DIR: deterministic inputs for the mlp of cuda_backend_mlp.dl
(input [12], dense(32, relu), dense(10, softmax)):
  DIR/weights.safetensors  every parameter by its Keras name
  DIR/batch.safetensors    x [8, 12] and one-hot labels [8, 10]
  DIR/{train,test}-{images,labels}.idx  64 float32 examples [12] with class ids,
                           for `dlc train --data idx:...`."""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
from safetensors_io import write  # noqa: E402


def values(count, seed, scale):
    """A fixed pseudo-random sequence in [-scale, scale] (no dependence on Python's random)."""
    return [scale * math.sin(seed * 12.9898 + i * 78.233) for i in range(count)]


def write_idx(path, dims, data, code, fmt):
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, code, len(dims)) + struct.pack(">%dI" % len(dims), *dims))
        f.write(struct.pack(">%d%s" % (len(data), fmt), *data))


out = sys.argv[1]
write(os.path.join(out, "weights.safetensors"), {
    "dense/kernel": ("F32", [12, 32], values(12 * 32, 1, 0.4)),
    "dense/bias": ("F32", [32], values(32, 2, 0.1)),
    "dense_1/kernel": ("F32", [32, 10], values(32 * 10, 3, 0.4)),
    "dense_1/bias": ("F32", [10], values(10, 4, 0.1)),
})
batch = 8
labels = [(3 * i + 1) % 10 for i in range(batch)]
write(os.path.join(out, "batch.safetensors"), {
    "x": ("F32", [batch, 12], values(batch * 12, 5, 1.0)),
    "labels": ("F32", [batch, 10], [1.0 if c == labels[r] else 0.0 for r in range(batch) for c in range(10)]),
})
count = 64
for split, seed in (("train", 6), ("test", 7)):
    classes = [(3 * i + seed) % 10 for i in range(count)]
    # Features carry the class, so the loss can fall.
    features = [v + (1.0 if j == classes[i] else 0.0)
                for i in range(count) for j, v in enumerate(values(12, seed * 1000 + i, 0.5))]
    write_idx(os.path.join(out, split + "-images.idx"), [count, 12], features, 0x0D, "f")
    write_idx(os.path.join(out, split + "-labels.idx"), [count], classes, 0x08, "B")
