"""Writes a small gzipped IDX image/label pair (Fashion-MNIST's layout) with
deterministic contents: make_idx.py DIR COUNT [CLASSES]."""
import gzip
import struct
import sys

out, count = sys.argv[1], int(sys.argv[2])
classes = int(sys.argv[3]) if len(sys.argv) > 3 else 10
for split in ("train", "test"):
    labels = [(i * 7 + (split == "test")) % classes for i in range(count)]
    pixels = bytes(((i * 31 + j * 17 + labels[i] * 40) % 256) for i in range(count) for j in range(28 * 28))
    with gzip.open("%s/%s-images-idx3-ubyte.gz" % (out, split), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + pixels)
    with gzip.open("%s/%s-labels-idx1-ubyte.gz" % (out, split), "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + bytes(labels))
