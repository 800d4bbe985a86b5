"""compare_train_logs.py A.jsonl B.jsonl RTOL: the epoch lines of two `dlc train
--log` files agree on loss and val_loss to RTOL relative. Prints one line per value."""
import json
import sys

a, b, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3])
worst = 0.0
for n, (la, lb) in enumerate(zip(open(a), open(b))):
    ja, jb = json.loads(la), json.loads(lb)
    for key in ("loss", "val_loss"):
        error = abs(ja[key] - jb[key]) / max(abs(jb[key]), 1e-30)
        worst = max(worst, error)
        print("epoch %d %s %.6f %.6f relative error %.2e" % (n + 1, key, ja[key], jb[key], error))
print("largest relative error %.2e (limit %.0e): %s" % (worst, rtol, "ok" if worst < rtol else "FAIL"))
sys.exit(0 if worst < rtol else 1)
