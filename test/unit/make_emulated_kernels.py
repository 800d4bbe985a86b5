"""Turns CUDA kernels printed by dlc-opt --dlc-print-cuda into one translation
unit for the CUDA emulation: each kernel in a namespace of its own, then a
table of packed launchers named "<input stem>/<entry>" (a kernel and its
later stages).
Usage: make_emulated_kernels.py DLC_OPT OUTPUT.cc [--fuse] INPUT.mlir...
(--fuse runs dlc-fuse first, for inputs that are not fused yet)."""
import os
import re
import subprocess
import sys

dlc_opt, output = sys.argv[1:3]
fuse = "--fuse" in sys.argv[3:]
inputs = [a for a in sys.argv[3:] if a != "--fuse"]
body, table, count, entries = "", "", 0, 0
seen = set()
ENTRY = r'extern "C" __global__ void (?:__cluster_dims__\([\d, ]+\) )?(?:__launch_bounds__\(\d+\) )?(\w+)\('
for source in inputs:
    stem = os.path.basename(source).split(".")[0]
    passes = (["--dlc-fuse"] if fuse else []) + ["--dlc-select-kernels=targets=cuda", "--dlc-print-cuda"]
    cuda = subprocess.run([dlc_opt, source] + passes + ["-o", "/dev/null"],
                          check=True, capture_output=True, text=True).stdout
    # Each kernel is its own translation unit under NVRTC; here they share
    # one, so each goes into a namespace of its own (helper names repeat).
    for kernel in re.split(r"(?m)^(?=// [^\n]*\n// launch: )", cuda):
        if not kernel.strip():
            continue
        name = re.search(ENTRY, kernel).group(1)
        if (stem, name) in seen:  # equal names are equal kernels
            continue
        seen.add((stem, name))
        # extern "C" names ignore namespaces: prefix the model's name (the
        # kernel's later stages, named after it, get the prefix too).
        symbol = "%s__%s" % (stem, name)
        body += "namespace dlc_kernel_%d {\n%s}\n" % (count, kernel.replace(name, symbol))
        # An entry defined per architecture (#if ... #else) is listed once.
        for entry in dict.fromkeys(re.findall(ENTRY, kernel)):
            table += '  {"%s/%s", DLC_SIM_PACKED(dlc_kernel_%d::%s)},\n' % (
                stem, entry, count, entry.replace(name, symbol))
            entries += 1
        count += 1
with open(output, "w") as f:
    f.write('#include "test/unit/EmulatedKernelRegistry.h"\n\n' + body + "\n")
    f.write("extern const dlc::test::EmulatedKernel dlcEmulatedKernels[] = {\n" + table + "};\n")
    f.write("extern const int dlcEmulatedKernelCount = %d;\n" % entries)
