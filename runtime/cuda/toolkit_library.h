//===- toolkit_library.h - Finding a CUDA toolkit library with dlopen -----===//
//
// NVRTC, cuBLASLt and cuDNN come with the CUDA toolkit, which is often installed
// without an ld.so.conf entry: the runtime looks for them by soname, then
// under $CUDA_HOME, $CUDA_PATH and /usr/local/cuda, and says where it
// looked when none loads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace dlc::rt::cuda {

/// The files to try for a toolkit library: $|overrideVariable| when set,
/// then each of |sonames| as the dynamic loader finds it, then each under
/// the lib64 of $CUDA_HOME, $CUDA_PATH and /usr/local/cuda.
std::vector<std::string> toolkitLibraryCandidates(const char *overrideVariable,
                                                  const std::vector<std::string> &sonames);

/// dlopens (RTLD_NOW | RTLD_LOCAL) the first of |candidates| that loads
/// and sets *path to it; null when none does, with *tried listing each and
/// why ("\n  NAME: REASON").
void *openFirstLibrary(const std::vector<std::string> &candidates, std::string *path, std::string *tried);

} // namespace dlc::rt::cuda
