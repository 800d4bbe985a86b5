"""Turns dlc-opt --dlc-print-cuda output into a translation unit for the CUDA
emulation: the kernels as printed, then a table of packed launchers.
Usage: make_emulated_kernels.py DLC_OPT INPUT.mlir OUTPUT.cc"""
import re
import subprocess
import sys

dlc_opt, source, output = sys.argv[1:4]
cuda = subprocess.run([dlc_opt, source, "--dlc-fuse", "--dlc-print-cuda", "-o", "/dev/null"],
                      check=True, capture_output=True, text=True).stdout
# Each kernel is its own translation unit under NVRTC; here they share one,
# so each goes into a namespace of its own (helper names repeat).
kernels = [k for k in re.split(r"(?m)^(?=// [^\n]*\n// launch: )", cuda) if k.strip()]
body, table = "", ""
for i, kernel in enumerate(kernels):
    name = re.search(r'extern "C" __global__ void (?:__launch_bounds__\(\d+\) )?(\w+)\(', kernel).group(1)
    body += "namespace dlc_kernel_%d {\n%s}\n" % (i, kernel)
    table += '  {"%s", DLC_SIM_PACKED(dlc_kernel_%d::%s)},\n' % (name, i, name)
with open(output, "w") as f:
    f.write('#include "test/unit/EmulatedKernelRegistry.h"\n\n' + body + "\n")
    f.write("extern const dlc::test::EmulatedKernel dlcEmulatedKernels[] = {\n" + table + "};\n")
    f.write("extern const int dlcEmulatedKernelCount = %d;\n" % len(kernels))
