"""make_class_id_inputs.py DIR: inputs for sparse_mlp.dl (input [12], 10 classes)
whose class ids are wrong:
  DIR/weights.safetensors        every parameter
  DIR/{good,high,negative}.safetensors   x [8, 12] and int64 labels [8]: valid ids,
                                 200 in row 5, -1 in row 2
  DIR/wide.safetensors           an int64 id of 2^32 + 3 (not an int32)
  DIR/{train,test}-images.idx, train-labels.idx (valid), bad-labels.idx (200 in
                                 example 5)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_inputs import values, write, write_idx, write_weights  # noqa: E402


out = sys.argv[1]
write_weights(out)
x = values(8 * 12, 5, 1.0)
good = [(3 * i + 1) % 10 for i in range(8)]
for name, row, value in (("good", 0, good[0]), ("high", 5, 200), ("negative", 2, -1), ("wide", 7, 2**32 + 3)):
    labels = list(good)
    labels[row] = value
    write(os.path.join(out, name + ".safetensors"), {"x": ("F32", [8, 12], x), "labels": ("I64", [8], labels)})
count = 64
classes = [(3 * i + 6) % 10 for i in range(count)]
features = [v + (1.0 if j == classes[i] else 0.0)
            for i in range(count) for j, v in enumerate(values(12, 6000 + i, 0.5))]
for split in ("train", "test"):
    write_idx(os.path.join(out, split + "-images.idx"), [count, 12], features, 0x0D, "f")
write_idx(os.path.join(out, "train-labels.idx"), [count], classes, 0x08, "B")
classes[5] = 200
write_idx(os.path.join(out, "bad-labels.idx"), [count], classes, 0x08, "B")
