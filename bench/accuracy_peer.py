#!/usr/bin/python3
"""Accuracy peer for examples/mnist_cnn.dl: PyTorch trains the same CNN on Fashion-MNIST the
way the .dl file's train block says (3 epochs, batch 32, Adam(1e-3), categorical
crossentropy, pixels / 255, Keras' default init: glorot_uniform kernels, zero biases;
shuffled every epoch as Keras' fit does) and prints the test accuracy after each epoch and
the peak RSS.

    /usr/bin/python3 bench/accuracy_peer.py            # ~0.89 test accuracy after 3 epochs

Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/*.gz, IDX)."""

import argparse
import gzip
import os
import resource
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see run_benchmarks.py --omp-wait-policy

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from peer_torch import MnistCNN, keras_init_, make_adam  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (optionally gzipped) as a NumPy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError("%s: %d bytes of data, expected %s" % (path, arr.size, dims))
    return arr.reshape(dims)


def load(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, "%s-images-idx3-ubyte.gz" % prefix))
    y = read_idx(os.path.join(data_dir, "%s-labels-idx1-ubyte.gz" % prefix))
    x = x.astype(np.float32)
    np.divide(x, 255.0, out=x)  # rescale(1 / 255), in place
    x = torch.from_numpy(x).unsqueeze(1)  # [N, 1, 28, 28]
    return x.contiguous(memory_format=torch.channels_last), torch.from_numpy(y.astype(np.int64))


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct, loss = 0, 0.0
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            logits = model(x[i:i + batch])
            loss += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return loss / len(x), correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (dev)")
    args = p.parse_args()

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    torch.manual_seed(args.seed)
    x_train, y_train = load(args.data_dir, "train")
    x_test, y_test = load(args.data_dir, "test")
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    model = keras_init_(MnistCNN()).to(memory_format=torch.channels_last)
    opt = make_adam(model)
    n = len(x_train)
    print("PyTorch %s, %d threads; Fashion-MNIST %d train / %d test; batch %d, Adam(1e-3)"
          % (torch.__version__, torch.get_num_threads(), n, len(x_test), args.batch))
    t_all = time.time()
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        perm = torch.randperm(n)
        seen, correct, loss_sum = 0, 0, 0.0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)  # softmax + categorical crossentropy
            loss.backward()
            opt.step()
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
        test_loss, test_acc = evaluate(model, x_test, y_test)
        print("epoch %d/%d: loss %.4f, accuracy %.4f, test loss %.4f, test accuracy %.4f (%.0f s)"
              % (epoch, args.epochs, loss_sum / seen, correct / seen, test_loss, test_acc,
                 time.time() - t0), flush=True)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("final test accuracy %.4f; peak RSS %.0f MiB; %.0f s in all"
          % (test_acc, peak_kib / 1024.0, time.time() - t_all))


if __name__ == "__main__":
    main()
