#!/usr/bin/env python3
"""How check_backends.py's gradient allowance was chosen: reads the
comparison_<backend>.json files a run left in its --work directory and
prints the worst gradient error for several values of ROUNDING_AMPLIFICATION
(K), each gradient measured against its own largest value (floor 0, as
check_backends.py does) or against no less than a fraction of the model's
largest gradient (what it did before it had rounding probes), and the
tensors whose differences most exceed their rounding response.

  check_backends.py --dlc build/tools/dlc/dlc --fuzz 1500 --no-nvrtc --work W
  calibrate.py W"""
import glob
import json
import os
import sys


def main():
    rows = []  # (case, backend, tensor, difference, response, largest, model's largest)
    for path in glob.glob(os.path.join(sys.argv[1], "*", "comparison_*.json")):
        case = os.path.basename(os.path.dirname(path))
        backend = os.path.basename(path)[len("comparison_"):-len(".json")]
        tensors = json.load(open(path))
        model_largest = max((t[2] for n, t in tensors.items() if n != "loss"), default=0.0)
        for name, (difference, response, own) in tensors.items():
            rows.append((case, backend, name, difference, response, own,
                         model_largest if name != "loss" else 0.0))
    print("%d gradients compared in %d cases" % (len(rows), len({r[0] for r in rows})))
    print("worst error (difference less K x response, over max(own largest, floor x model's largest)):")
    print("%6s" % "K" + "".join("%12s" % ("floor %g" % f) for f in (0.5, 0.1, 0.01, 0.0)))
    for k in (0, 4, 8, 16, 32):
        line = "%6g" % k
        for floor in (0.5, 0.1, 0.01, 0.0):
            worst = 0.0
            for r in rows:
                scale = max(r[5], floor * r[6])
                if scale > 0:
                    worst = max(worst, max(0.0, r[3] - k * r[4]) / scale)
            line += "%12.2e" % worst
        print(line)
    print("largest differences over their response (errors above 1e-6):")
    notable = [r for r in rows if r[5] > 0 and r[3] / r[5] > 1e-6]
    for r in sorted(notable, key=lambda r: r[3] / max(r[4], 1e-30), reverse=True)[:10]:
        scale = r[5]
        print("  %-36s %-9s %-28s error %.2e response %.2e (x%.1f)" % (
            r[0], r[1], r[2], r[3] / scale, r[4] / scale, r[3] / max(r[4], 1e-30)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
