"""perturb.py IN NAME FACTOR OUT: scales tensor NAME of a safetensors file."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
from safetensors_io import read, write  # noqa: E402

source, name, factor, target = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
tensors = {k: (dtype, shape, list(values)) for k, (dtype, shape, values) in read(source).items()}
dtype, shape, values = tensors[name]
tensors[name] = (dtype, shape, [v * factor for v in values])
write(target, tensors)
