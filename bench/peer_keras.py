"""Keras (TensorFlow backend) peer: one benchmark measurement per process, one JSON line.

    bench/.venv/bin/python bench/peer_keras.py --model cnn --mode train --batch 128 [--xla]

Training runs model.train_on_batch (Keras' compiled train function: forward, backward,
Adam update); inference runs the model's forward pass as a tf.function and copies the
softmax output to NumPy. --xla compiles both with jit_compile=True; without it
jit_compile=False (what Keras' "auto" picks on a CPU anyway)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402

_n = bc.threads()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(_n))
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(_n)
tf.config.threading.set_inter_op_parallelism_threads(1)

import keras  # noqa: E402
from keras import layers  # noqa: E402


def build(model_name):
    if model_name == "cnn":
        return keras.Sequential([
            keras.Input(bc.CNN_INPUT),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(bc.CNN_CLASSES, activation="softmax"),
        ], name="mnist_cnn")
    return keras.Sequential([
        keras.Input((bc.LSTM_SEQ,), dtype="int32"),
        layers.Embedding(bc.LSTM_VOCAB, bc.LSTM_EMBED),
        layers.LSTM(bc.LSTM_UNITS),
        layers.Dense(bc.LSTM_VOCAB, activation="softmax"),
    ], name="text_lstm")


def synthetic_batches(model_name, batch):
    rng = np.random.default_rng(bc.SEED)
    out = []
    for _ in range(bc.NUM_BATCHES):
        if model_name == "cnn":
            x = rng.random((batch,) + bc.CNN_INPUT, dtype=np.float32)
            classes = bc.CNN_CLASSES
        else:
            x = rng.integers(0, bc.LSTM_VOCAB, (batch, bc.LSTM_SEQ), dtype=np.int32)
            classes = bc.LSTM_VOCAB
        y = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, batch)]
        out.append((x, y))
    return out


def main():
    p = bc.worker_args(__doc__)
    p.add_argument("--xla", action="store_true", help="compile with jit_compile=True")
    args = p.parse_args()
    keras.utils.set_random_seed(bc.SEED)
    model = build(args.model)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="categorical_crossentropy", jit_compile=bool(args.xla))
    data = synthetic_batches(args.model, args.batch)
    if args.mode == "train":
        fns = [lambda x=x, y=y: model.train_on_batch(x, y) for x, y in data]
    else:
        # A tf.function around the forward pass (what a serving signature runs); it
        # skips predict_on_batch's per-call Python overhead (~0.5 ms at batch 1).
        forward = tf.function(lambda t: model(t, training=False), jit_compile=bool(args.xla))
        fns = [lambda x=tf.constant(x): forward(x).numpy() for x, _ in data]
    result = bc.measure(bc.cycle(fns), args.batch, args.warmup, args.min_time, args.reps)
    result.update({
        "framework": "keras-xla" if args.xla else "keras",
        "version": "tensorflow %s, keras %s" % (tf.__version__, keras.__version__),
        "model": args.model,
        "mode": args.mode,
        "threads": [tf.config.threading.get_intra_op_parallelism_threads(),
                    tf.config.threading.get_inter_op_parallelism_threads()],
        "jit_compile": bool(args.xla),
    })
    bc.emit(result)


if __name__ == "__main__":
    main()
