//===- PrintCuda.cpp - dlc-print-cuda: the emitted kernels, for tests -----===//
#include "compiler/Codegen/CUDA/CudaEmitter.h"
#include "compiler/Codegen/CUDA/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace dlc::cuda {
#define GEN_PASS_DEF_PRINTCUDAPASS
#include "compiler/Codegen/CUDA/Passes.h.inc"
} // namespace dlc::cuda

using namespace mlir;

namespace {
struct PrintCudaPass : dlc::cuda::impl::PrintCudaPassBase<PrintCudaPass> {
  void runOnOperation() override {
    bool failedAny = false;
    getOperation().walk([&](dlc::dl::FusedOp group) {
      FailureOr<dlc::cuda::CudaKernel> kernel = dlc::cuda::emitKernel(group);
      if (failed(kernel)) {
        failedAny = true;
        return;
      }
      llvm::outs() << kernel->source << "\n";
    });
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
