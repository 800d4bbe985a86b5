"""Splits Fashion-MNIST (Debian's dataset-fashion-mnist) for the transfer
learning demo: classes 0-4 (T-shirt, trouser, pullover, dress, coat) to
pretrain on, classes 5-9 (sandal, shirt, sneaker, bag, ankle boot) renumbered
0-4 for the new task, of which only a few hundred training examples are kept.

  python3 make_splits.py OUT_DIR [--few 500] [--source /usr/share/datasets/fashion-mnist]

Writes OUT_DIR/base.npz and OUT_DIR/base_test.npz (all of classes 0-4),
OUT_DIR/new.npz (the first --few training examples of classes 5-9, in file
order) and OUT_DIR/new_test.npz (every test example of classes 5-9); arrays
`x` (uint8 [N, 28, 28]) and `y` (int64 class ids).
"""
import argparse
import gzip
import os

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--few", type=int, default=500)
parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
args = parser.parse_args()


def idx(name):
    with gzip.open(os.path.join(args.source, name + ".gz")) as f:
        data = f.read()
    rank = data[3]
    dims = np.frombuffer(data[4:4 + 4 * rank], ">u4")
    return np.frombuffer(data[4 + 4 * rank:], np.uint8).reshape(dims)


train_x, train_y = idx("train-images-idx3-ubyte"), idx("train-labels-idx1-ubyte")
test_x, test_y = idx("t10k-images-idx3-ubyte"), idx("t10k-labels-idx1-ubyte")
os.makedirs(args.out, exist_ok=True)
for name, x, y, keep in (("base", train_x, train_y, train_y < 5), ("base_test", test_x, test_y, test_y < 5),
                         ("new", train_x, train_y, train_y >= 5), ("new_test", test_x, test_y, test_y >= 5)):
    xs, ys = x[keep], y[keep].astype(np.int64)
    if name.startswith("new"):
        ys = ys - 5
    if name == "new":
        xs, ys = xs[:args.few], ys[:args.few]
    np.savez(os.path.join(args.out, name + ".npz"), x=xs, y=ys)
    print(f"{name}: {len(ys)} examples, classes {np.bincount(ys).tolist()}")
