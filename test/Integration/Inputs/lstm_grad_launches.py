"""Prints, for each LSTM gradient kernel of `dlc inspect --device D --json`,
its program, name, launches and atomics."""
import json
import sys

for program in json.load(sys.stdin)["roofline"]["programs"]:
    for k in program["kernels"]:
        if "lstm_grad" in k["name"]:
            print(program["name"], k["name"], "launches", k["launches"], "atomics", k["atomics"])
