"""Exits 0 when two checkpoints hold the same tensors bit for bit, and says
how many differ otherwise: same_checkpoints.py A B."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "fixtures"))
import safetensors_io  # noqa: E402

a, b = safetensors_io.read(sys.argv[1]), safetensors_io.read(sys.argv[2])
if sorted(a) != sorted(b):
    print("different tensor names")
    sys.exit(1)
differ = [name for name in a if a[name] != b[name]]
print("%d tensors, %d differ%s" % (len(a), len(differ), (": " + ", ".join(differ[:5])) if differ else ""))
sys.exit(1 if differ else 0)
