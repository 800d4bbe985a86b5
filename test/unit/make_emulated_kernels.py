"""Turns dlc-opt --dlc-print-cuda output into a translation unit for the CUDA
emulation: the kernels as printed, then a table of packed launchers.
Usage: make_emulated_kernels.py DLC_OPT INPUT.mlir OUTPUT.cc"""
import re
import subprocess
import sys

dlc_opt, source, output = sys.argv[1:4]
cuda = subprocess.run([dlc_opt, source, "--dlc-fuse", "--dlc-print-cuda", "-o", "/dev/null"],
                      check=True, capture_output=True, text=True).stdout
names = re.findall(r'extern "C" __global__ void (?:__launch_bounds__\(\d+\) )?(\w+)\(', cuda)
table = "".join('  {"%s", DLC_SIM_PACKED(%s)},\n' % (n, n) for n in names)
with open(output, "w") as f:
    f.write('#include "test/unit/EmulatedKernelRegistry.h"\n\n' + cuda + "\n")
    f.write("extern const dlc::test::EmulatedKernel dlcEmulatedKernels[] = {\n" + table + "};\n")
    f.write("extern const int dlcEmulatedKernelCount = %d;\n" % len(names))
