"""Compares the tensors NAME... of two safetensors files: same_tensors.py A B
NAME... Prints how many are compared and how many differ; exits 1 when any
differs or is missing from either file."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "fixtures"))
import safetensors_io  # noqa: E402

a, b = safetensors_io.read(sys.argv[1]), safetensors_io.read(sys.argv[2])
names = sys.argv[3:]
differ = [n for n in names if n not in a or n not in b or a[n] != b[n]]
print("%d tensors compared, %d differ%s" % (len(names), len(differ), (": " + ", ".join(differ[:5])) if differ else ""))
sys.exit(1 if differ or not names else 0)
