"""make_bad_inputs.py FIXTURES OUT: writes malformed weights and batches for grad-contract.test."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
from safetensors_io import read, write  # noqa: E402

fixtures, out = sys.argv[1], sys.argv[2]
weights = {k: (d, s, list(v)) for k, (d, s, v) in read(os.path.join(fixtures, "mnist_cnn.weights.safetensors")).items()}
batch = {k: (d, s, list(v)) for k, (d, s, v) in read(os.path.join(fixtures, "mnist_cnn.batch.safetensors")).items()}
lstm_batch = {k: (d, s, list(v)) for k, (d, s, v) in read(os.path.join(fixtures, "text_lstm.batch.safetensors")).items()}

write(os.path.join(out, "missing.safetensors"), {k: v for k, v in weights.items() if k != "dense_1/bias"})
write(os.path.join(out, "extra.safetensors"), dict(weights, **{"dense_9/kernel": ("F32", [1], [0.0])}))
write(os.path.join(out, "misshaped.safetensors"), dict(weights, **{"dense/bias": ("F32", [65], [0.0] * 65)}))
write(os.path.join(out, "nolabels.safetensors"), {"image": batch["image"]})
_, shape, values = batch["labels"]
write(os.path.join(out, "ragged.safetensors"), dict(batch, labels=("F32", [3] + shape[1:], values[:3 * shape[1]])))
write(os.path.join(out, "input_named.safetensors"), {"input": batch["image"], "labels": batch["labels"]})
_, shape, values = lstm_batch["tokens"]
write(os.path.join(out, "float_tokens.safetensors"), dict(lstm_batch, tokens=("F32", shape, [float(v) for v in values])))
with open(os.path.join(fixtures, "mnist_cnn.weights.safetensors"), "rb") as f:
    data = f.read()
with open(os.path.join(out, "truncated.safetensors"), "wb") as f:
    f.write(data[: len(data) // 2])
