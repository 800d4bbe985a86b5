"""labels_as.py BATCH FORM OUT: BATCH (one-hot 'labels' rows) with its labels
rewritten as FORM: 'ids' (int32 class ids, the rows' argmax) or 'soft' (the
second row smoothed, so that it is no longer one-hot)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
from safetensors_io import read, write  # noqa: E402

batch_path, form, out = sys.argv[1:4]
batch = read(batch_path)
_, shape, values = batch["labels"]
classes = shape[-1]
rows = [list(values[r * classes:(r + 1) * classes]) for r in range(len(values) // classes)]
if form == "ids":
    batch["labels"] = ("I32", shape[:-1], [row.index(1.0) for row in rows])
else:
    rows[1] = [0.9 * v + 0.1 / classes for v in rows[1]]
    batch["labels"] = ("F32", shape, [v for row in rows for v in row])
write(out, batch)
