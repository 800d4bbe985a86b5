"""Prints what `dlc inspect --device D --json` counts for each kernel: one
line per program and kernel, `PROGRAM KERNEL flops F bytes B atomics A unit U`."""
import json
import sys

for program in json.load(sys.stdin)["roofline"]["programs"]:
    for k in program["kernels"]:
        print(program["name"], k["name"], "flops", k["flops"], "bytes", k["bytes"], "atomics",
              k["atomics"], "unit", k["unit"])
