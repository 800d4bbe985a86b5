"""Checks `dlc run -o` predictions against known answers, with numpy:

  check_predictions.py PRED.safetensors accuracy ANSWERS.npz KEY LIMIT   # argmax == class ids
  check_predictions.py PRED.safetensors accuracy ANSWERS.csv COLUMN LIMIT  # word classes, sorted
  check_predictions.py PRED.safetensors mse ANSWERS.npy - LIMIT

Prints one line for FileCheck (`ok` when accuracy >= LIMIT or mse <= LIMIT);
exits 1 otherwise.
"""
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
import safetensors_io  # noqa: E402

pred_path, metric, answers_path, key, limit = sys.argv[1:6]
limit = float(limit)
_, shape, values = safetensors_io.read(pred_path)["predictions"]
pred = np.asarray(values, dtype=np.float64).reshape(shape)
if answers_path.endswith(".npz"):
    answers = np.load(answers_path)[key]
elif answers_path.endswith(".csv"):
    with open(answers_path, newline="") as f:
        words = [row[key] for row in csv.DictReader(f)]
    classes = sorted(set(words))
    answers = np.array([classes.index(w) for w in words])
else:
    answers = np.load(answers_path)
if len(answers) != len(pred):
    print("FAILS: %d predictions for %d answers" % (len(pred), len(answers)))
    sys.exit(1)
if metric == "accuracy":
    value = float(np.mean(pred.argmax(axis=1) == answers.reshape(-1)))
    ok = value >= limit
else:
    value = float(np.mean((pred.reshape(answers.shape) - answers) ** 2))
    ok = value <= limit
print("%d predictions: %s %.4f %s" % (len(pred), metric, value, "ok" if ok else "FAILS"))
sys.exit(0 if ok else 1)
