"""Reads a `dlc train --log` file and checks that training learned: the last
epoch's KEY is at least (>=) or at most (<=) LIMIT, and the loss fell from the
first epoch to the last (when there are two). Prints one line for FileCheck; exits 1 otherwise.

  check_fit.py LOG KEY '>=' LIMIT
"""
import json
import sys

path, key, op, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
epochs = [json.loads(line) for line in open(path)]
first, last = epochs[0], epochs[-1]
value = last[key]
ok = value >= limit if op == ">=" else value <= limit
fell = len(epochs) < 2 or last["loss"] < first["loss"]
print(f"{key} {value:.4f} {'ok' if ok else 'FAILS'} ({op} {limit}); "
      f"loss {first['loss']:.4f} -> {last['loss']:.4f} {'fell' if fell else 'DID NOT FALL'}")
sys.exit(0 if ok and fell else 1)
