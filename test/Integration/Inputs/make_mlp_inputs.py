"""make_mlp_inputs.py DIR: deterministic inputs for the mlp of cuda_backend_mlp.dl
(input [12], dense(32, relu), dense(10, softmax)):
  DIR/weights.safetensors  every parameter by its Keras name
  DIR/batch.safetensors    x [8, 12] and one-hot labels [8, 10]
  DIR/{train,test}-{images,labels}.idx  64 float32 examples [12] with class ids,
                           for `dlc train --data idx:...`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_inputs import values, write, write_idx, write_weights  # noqa: E402


out = sys.argv[1]
write_weights(out)
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
