"""Summarizes an early-stopped run: callbacks_log.py LOG CHECKPOINT_DIR. Prints
the last epoch, the best val_loss epoch and how far before the end it was,
and whether model_checkpoint's epoch-N files are all there."""
import json
import os
import sys

epochs = [json.loads(line) for line in open(sys.argv[1]) if '"epoch"' in line]
last = epochs[-1]["epoch"]
best = min(epochs, key=lambda e: e["val_loss"])["epoch"]
print(f"stopped after epoch {last} of 100; best val_loss at epoch {best} = {last - best} epochs before")
present = all(os.path.exists(os.path.join(sys.argv[2], f"epoch-{n}.safetensors")) for n in range(1, last + 1))
print(f"epoch files 1..{last} {'present' if present else 'MISSING'}")
