//===- EmitLossScale.cpp - dl.loss_scale_update as one block ---------------===//
//
// Whether every element of every gradient is finite is one decision for the
// whole step, so one block reads them all (a grid-stride loop per gradient)
// and agrees by __syncthreads_and; its first thread then writes the state
// by runtime/loss_scale.h's rule (nextLossScaleState, written out here as
// kernel text). The state may be updated in place: every field is read
// before any is written.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"
#include "runtime/loss_scale.h"

using namespace mlir;

namespace dlc::cuda {

bool isLossScaleGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  return llvm::hasSingleElement(body.without_terminator()) &&
         isa<dl::LossScaleUpdateOp>(body.front());
}

LogicalResult emitLossScale(dl::FusedOp group, CudaKernel &kernel) {
  namespace ls = rt::loss_scale;
  auto update = cast<dl::LossScaleUpdateOp>(group.getBody().front().front());
  auto field = [](const std::string &buffer, ls::Field f) {
    return buffer + "[" + std::to_string(int(f)) + "]";
  };
  std::string state = inputName(update.getState());
  std::string next = resultName(group, update.getNewState());
  kernel.block = {256, 1, 1};
  kernel.grid = {1, 1, 1};
  std::string s = header(group, kernel);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false, /*restrictPointers=*/false) + ") {\n";
  s += "  bool finite = true;\n";
  for (Value g : update.getGrads()) {
    int64_t n = cast<ShapedType>(g.getType()).getNumElements();
    s += "  for (long long i = threadIdx.x; i < " + std::to_string(n) + "ll; i += blockDim.x)\n"
         "    finite = finite && isfinite((float)" + inputName(g) + "[i]);\n";
  }
  s += "  finite = __syncthreads_and(finite);\n"
       "  if (threadIdx.x != 0)\n    return;\n"
       "  const float scale = " + field(state, ls::kScale) + ", good = " +
       field(state, ls::kGoodSteps) + ", skipped = " + field(state, ls::kSkippedSteps) + ";\n"
       "  " + field(next, ls::kStepScale) + " = scale;\n"
       "  " + field(next, ls::kStepFinite) + " = finite ? 1.0f : 0.0f;\n"
       "  if (finite) {\n"
       "    const bool grow = good + 1.0f >= " + std::to_string(update.getGrowthSteps()) + ".0f;\n"
       "    " + field(next, ls::kScale) + " = grow ? scale * 2.0f : scale;\n"
       "    " + field(next, ls::kGoodSteps) + " = grow ? 0.0f : good + 1.0f;\n"
       "    " + field(next, ls::kSkippedSteps) + " = skipped;\n"
       "  } else {\n"
       "    " + field(next, ls::kScale) + " = scale * 0.5f;\n"
       "    " + field(next, ls::kGoodSteps) + " = 0.0f;\n"
       "    " + field(next, ls::kSkippedSteps) + " = skipped + 1.0f;\n"
       "  }\n}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
