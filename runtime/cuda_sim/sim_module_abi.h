//===- sim_module_abi.h - What an emulated-kernel module exports ---------===//
//
// The cuda-sim backend (sim_module.cc) compiles a bundle's CUDA kernels into
// one host shared object with a generated table of launchers, and finds the
// table with dlsym(kDlcSimModuleSymbol). This header is included by both
// sides. The module's launcher runs dlc::sim::launchPacked, which must be
// instantiated in the module that holds the kernels (their __shared__
// section is the module's own).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CUDA_SIM_MODULE_ABI_H
#define DLC_CUDA_SIM_MODULE_ABI_H

#include "runtime/cuda_sim/cuda_sim_host.h"

#include <cstddef>

/// Bumped on any change to DlcSimModuleTable; it also enters the cache key.
#define DLC_SIM_MODULE_ABI 2
#define DLC_SIM_MODULE_SYMBOL "dlc_sim_module"

struct DlcSimModuleTable {
  int abi;   // DLC_SIM_MODULE_ABI of the generator
  int count; // kernels, in the order the backend listed them
  const char *const *names;
  /// Launches kernel |index| like cuLaunchKernel(args): args[i] points at
  /// the i-th parameter's value.
  dlc::rt::Status (*launch)(int index, void **args, dim3 grid, dim3 block, size_t dynamicShared,
                            const dlc::sim::LaunchOptions *options);
};

#endif // DLC_CUDA_SIM_MODULE_ABI_H
