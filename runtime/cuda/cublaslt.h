//===- cublaslt.h - cuBLASLt, loaded at run time, for "matmul" calls -------===//
//
// The GPU runs the library routine "matmul" (matmul.h) with cuBLASLt,
// loaded with dlopen like the driver: the runtime starts without it, and a
// bundle that calls it fails to prepare, saying what was tried:
// $DLC_CUBLASLT_LIBRARY, libcublasLt.so.13 and .so.12, where the toolkit
// may be (toolkit_library.h).
//
// cuBLASLt is column-major; our buffers are row-major. D = op(A) op(B) in
// row-major is D^T = op(B)^T op(A)^T in column-major, so a call passes B
// as cuBLASLt's A and A as its B, with m and n exchanged: the bias, one
// value per column of our D, is one per row of cuBLASLt's, which is what
// its BIAS epilogue adds.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cuda/cuda_driver.h"
#include "runtime/cuda/library_call.h"
#include "runtime/cuda/matmul.h"

#include <memory>
#include <string>

namespace dlc::rt::cuda {

class CublasLt {
public:
  /// The process's cuBLASLt, loaded once; kUnavailable naming every file
  /// tried when there is none.
  static Status instance(const CublasLt **out);
  /// "cuBLASLt 130100 (/usr/local/cuda/lib64/libcublasLt.so.13)".
  std::string describe() const;

  /// One prepared call: its descriptors, the algorithm cuBLASLt's heuristic
  /// chose, and the workspace that algorithm needs.
  struct Plan; // needs at most kLibraryWorkspaceBytes of workspace
  struct PlanDeleter {
    void operator()(Plan *plan) const; // its descriptors; cuBLASLt stays loaded
  };
  using PlanPtr = std::unique_ptr<Plan, PlanDeleter>;
  /// Prepares |call| on the current context (cuBLASLt's handle is made the
  /// first time).
  Status plan(const MatmulCall &call, PlanPtr *out) const;
  /// Queues |plan| on |stream| (a CUstream), the buffers at these device
  /// addresses, |workspace| of kLibraryWorkspaceBytes.
  Status run(const Plan &plan, DevicePtr a, DevicePtr b, DevicePtr bias, DevicePtr d, DevicePtr workspace,
             void *stream) const;

  struct Symbols; // the dlsym'd function table (cublaslt.cc)

private:
  CublasLt() = default;
  const Symbols *symbols_ = nullptr;
  std::string path_;
};

} // namespace dlc::rt::cuda
