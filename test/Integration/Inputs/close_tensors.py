"""Compares every tensor two safetensors files share: close_tensors.py A B TOL.
A tensor is beyond when its largest difference exceeds TOL times its largest
magnitude in B. Prints how many are compared and how many are beyond; exits 1
when any is, or when the files share none."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "fixtures"))
import safetensors_io  # noqa: E402

a, b = safetensors_io.read(sys.argv[1]), safetensors_io.read(sys.argv[2])
tolerance = float(sys.argv[3])
names = sorted(set(a) & set(b))
beyond = []
for name in names:
    x, y = a[name][2], b[name][2]
    scale = max((abs(v) for v in y), default=0.0)
    worst = max((abs(p - q) for p, q in zip(x, y)), default=0.0)
    if len(x) != len(y) or worst > tolerance * scale:
        beyond.append("%s (%.3g of %.3g)" % (name, worst, scale))
print("%d tensors compared, %d beyond%s" % (len(names), len(beyond), (": " + ", ".join(beyond[:5])) if beyond else ""))
sys.exit(1 if beyond or not names else 0)
