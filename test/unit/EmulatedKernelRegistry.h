//===- EmulatedKernelRegistry.h - Emitted kernels compiled for the emulator -===//
//
// The build runs dlc-opt --dlc-print-cuda over Inputs/emulated_kernels.mlir,
// compiles the CUDA C++ it prints against runtime/cuda_sim, and appends this
// table of every kernel's packed launcher (make_emulated_kernels.py).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cuda_sim/cuda_sim_host.h"

namespace dlc::test {
struct EmulatedKernel {
  const char *name;
  dlc::sim::PackedKernel run;
};
} // namespace dlc::test

extern const dlc::test::EmulatedKernel dlcEmulatedKernels[];
extern const int dlcEmulatedKernelCount;
