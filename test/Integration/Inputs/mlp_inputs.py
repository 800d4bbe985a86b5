"""What the mlp input scripts share: a fixed pseudo-random sequence, IDX
writing, and the weights of the 12 -> 32 -> 10 mlp by their Keras names."""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
from safetensors_io import write  # noqa: E402,F401  (re-exported)


def values(count, seed, scale):
    """A fixed pseudo-random sequence in [-scale, scale] (no dependence on Python's random)."""
    return [scale * math.sin(seed * 12.9898 + i * 78.233) for i in range(count)]


def write_idx(path, dims, data, code, fmt):
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, code, len(dims)) + struct.pack(">%dI" % len(dims), *dims))
        f.write(struct.pack(">%d%s" % (len(data), fmt), *data))


def write_weights(out):
    write(os.path.join(out, "weights.safetensors"), {
        "dense/kernel": ("F32", [12, 32], values(12 * 32, 1, 0.4)),
        "dense/bias": ("F32", [32], values(32, 2, 0.1)),
        "dense_1/kernel": ("F32", [32, 10], values(32 * 10, 3, 0.4)),
        "dense_1/bias": ("F32", [10], values(10, 4, 0.1)),
    })
