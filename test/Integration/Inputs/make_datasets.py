"""Writes small learnable data sets in every format dlc reads, with numpy and
Pillow themselves, and a .dl model beside each that names its data by a path
relative to the .dl file. Used by test/Integration/data-sources.test.

  two_inputs.dl   npz: image [8, 8, 1] and meta [3] -> 3 classes (train: savez,
                  stored; test: savez_compressed, deflated); class ids int64
  onehot.dl       npz: one input `x` (a one-input model's fallback name), float
                  one-hot targets `y`, categorical_crossentropy
  regression.dl   npy: float64 features, float32 targets [N, 1], mse
  iris.dl         csv: a header, quoted fields, word labels (3 species)
  images.dl       image_folder: PNG and JPEG, grey and RGB, of several sizes,
                  decoded to the model's 16x16x3; a test folder
  multilabel.dl   safetensors: f32 [N, 4] 0/1 targets, binary_crossentropy
  two_outputs.dl  npz: features [6] -> price [1] (mse, weight 0.5) and dept
                  (3 classes, sparse_categorical_crossentropy): one target
                  array per output, named after it
"""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
import safetensors_io  # noqa: E402

out = sys.argv[1]
rng = np.random.default_rng(7)


def write(name, text):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)


def train_block(model, loss, source, extra="", metrics="[accuracy]", batch=16, lr=0.01):
    return f"""
train {model} {{
  loss = {loss}
  optimizer = adam(learning_rate={lr})
  metrics = {metrics}
  batch_size = {batch}
  data {{
    source = {source}
{extra}  }}
}}
"""


# Two inputs: the class is which third of the image is bright, and meta
# carries a noisy copy of it.
def two_inputs(n):
    labels = rng.integers(0, 3, n)
    images = rng.uniform(0, 0.2, (n, 8, 8, 1)).astype(np.float32)
    for i, c in enumerate(labels):
        images[i, :, c * 3:c * 3 + 2, 0] += 0.8
    meta = rng.normal(0, 1, (n, 3)).astype(np.float32)
    meta[np.arange(n), labels] += 1.0
    return images, meta, labels.astype(np.int64)


img, meta, y = two_inputs(240)
np.savez(os.path.join(out, "train.npz"), image=img, meta=meta, labels=y)
img, meta, y = two_inputs(60)
np.savez_compressed(os.path.join(out, "test.npz"), image=img, meta=meta, labels=y)
np.savez(os.path.join(out, "extra.npz"), image=img, meta=meta, labels=y, weights=np.ones(60))
write("two_inputs.dl", """model two_inputs {
  input image: [8, 8, 1]
  input meta: [3]
  c = conv2d(4, 3, activation=relu)(image)
  f = flatten()(c)
  j = concat(f, meta)
  h = dense(16, activation=relu)(j)
  p = dense(3, activation=softmax)(h)
  output p
}
""" + train_block("two_inputs", "sparse_categorical_crossentropy",
                  'npz("train.npz", test="test.npz")'))

# Two outputs from one input: a price (regression) and a department (class
# ids), each array of targets named after its output.
def two_outputs(n):
    features = rng.normal(0, 1, (n, 6)).astype(np.float32)
    price = (features[:, :3] @ np.array([1.0, -0.5, 0.25]) + 0.5).astype(np.float32)[:, None]
    dept = np.argmax(features[:, 3:], axis=1).astype(np.int32)
    return features, price, dept


f, p, d = two_outputs(300)
np.savez(os.path.join(out, "shop_train.npz"), features=f, price=p, dept=d)
f, p, d = two_outputs(60)
np.savez(os.path.join(out, "shop_test.npz"), features=f, price=p, dept=d)
write("two_outputs.dl", """model two_outputs {
  input features: [6]
  h = dense(32, activation=relu)(features)
  price = dense(1)(h)
  dept = dense(3, activation=softmax)(h)
  output price, dept
}

train two_outputs {
  loss = {price: mse, dept: sparse_categorical_crossentropy}
  loss_weights = {price: 0.5}
  metrics = {dept: [accuracy]}
  optimizer = adam(learning_rate=0.02)
  batch_size = 16
  data {
    source = npz("shop_train.npz", test="shop_test.npz")
  }
}
""")

# One input named `x` in the file, float one-hot targets `y`.
x = rng.normal(0, 1, (200, 5)).astype(np.float32)
c = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
np.savez(os.path.join(out, "onehot.npz"), x=x, y=np.eye(3, dtype=np.float32)[c])
write("onehot.dl", """model onehot {
  input features: [5]
  dense(16, activation=relu)
  dense(3, activation=softmax)
}
""" + train_block("onehot", "categorical_crossentropy", 'npz("onehot.npz")',
                  "    validation = 0.2\n"))

# Regression from float64 features.
x = rng.normal(0, 1, (256, 4))
w = np.array([[0.5], [-1.0], [2.0], [0.25]])
np.save(os.path.join(out, "reg_x.npy"), x)
np.save(os.path.join(out, "reg_y.npy"), (x @ w + 0.3).astype(np.float32))
write("regression.dl", """model regression {
  input x: [4]
  dense(1)
}
""" + train_block("regression", "mse", 'npy(x="reg_x.npy", y="reg_y.npy")',
                  "    validation = 0.25\n", metrics="[]", lr=0.05))

# Iris-like CSV with word labels and a quoted header.
species = ["setosa", "versicolor", "virginica"]
rows = ['sepal_length,sepal_width,"petal, length",petal_width,species']
for i in range(150):
    k = i % 3
    v = rng.normal([5.0 + k, 3.4 - 0.3 * k, 1.5 + 2 * k, 0.2 + 0.9 * k], 0.3)
    rows.append(",".join(f"{a:.2f}" for a in v) + "," + species[k])
write("iris.csv", "\n".join(rows) + "\n")
write("iris.dl", """model iris {
  input measurements: [4]
  dense(16, activation=relu)
  dense(3, activation=softmax)
}
""" + train_block("iris", "sparse_categorical_crossentropy", 'csv("iris.csv", label="species")',
                  "    validation = 0.2\n"))

# Image folders: bright "day" and dark "night" pictures, PNG and JPEG,
# grey and RGB, 12 to 24 pixels on a side.
for split, count in (("photos", 40), ("photos_test", 10)):
    for name, level in (("day", 200), ("night", 40)):
        os.makedirs(os.path.join(out, split, name), exist_ok=True)
        for i in range(count):
            h, w = rng.integers(12, 25, 2)
            pixels = np.clip(rng.normal(level, 30, (h, w, 3)), 0, 255).astype(np.uint8)
            picture = Image.fromarray(pixels)
            if i % 4 == 1:
                picture = picture.convert("L")
            ext = "jpg" if i % 2 else "png"
            picture.save(os.path.join(out, split, name, f"{i:03d}.{ext}"))
write("images.dl", """model images {
  input picture: [16, 16, 3]
  conv2d(4, 3, activation=relu)
  global_avg_pool2d()
  dense(2, activation=softmax)
}
""" + train_block("images", "sparse_categorical_crossentropy",
                  'image_folder("photos", test="photos_test")', "    rescale(1 / 255)\n",
                  batch=8, lr=0.05))

# Multi-label targets in safetensors: label j is on when feature j > 0.
x = rng.normal(0, 1, (192, 4)).astype(np.float32)
labels = (x > 0).astype(np.float32)


safetensors_io.write(os.path.join(out, "multilabel.safetensors"),
                     {name: ("F32", a.shape, a.ravel().tolist()) for name, a in (("x", x), ("labels", labels))})
write("multilabel.dl", """model multilabel {
  input x: [4]
  dense(16, activation=relu)
  dense(4, activation=sigmoid)
}
""" + train_block("multilabel", "binary_crossentropy", 'safetensors("multilabel.safetensors")',
                  "    validation = 0.25\n"))
