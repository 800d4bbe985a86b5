//===- Pipelines.cpp - The compiler's pass pipelines ---------------------===//
#include "compiler/Pipelines/Pipelines.h"

#include "compiler/Target/Passes.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/DL/DLOps.h"

#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace dlc {

int64_t compileBatchSize(ModuleOp module, int64_t requested) {
  if (requested > 0)
    return requested;
  for (auto setup : module.getOps<dl::TrainSetupOp>())
    if (auto b = setup->getAttrOfType<IntegerAttr>("batch_size"))
      return b.getInt();
  return 32;
}

void addTrainingPasses(OpPassManager &pm, StringRef precision, bool differentiate,
                       bool augmentInStep) {
  if (differentiate) {
    pm.addPass(createClassIdLabelsPass());
    pm.addPass(createAutodiffPass());
    AugmentOnDevicePassOptions augment;
    augment.inStep = augmentInStep;
    pm.addPass(createAugmentOnDevicePass(augment));
  }
  SelectPrecisionPassOptions policy;
  policy.policy = precision.str();
  pm.addPass(createSelectPrecisionPass(policy));
  pm.addPass(createScaleLossPass());
}

namespace {
void addPrecisionPasses(PassManager &pm, ModuleOp module, int64_t batchSize, StringRef precision,
                        bool augmentInStep = true) {
  InferShapesPassOptions shapes;
  shapes.batchSize = batchSize;
  pm.addPass(createInferShapesPass(shapes));
  addTrainingPasses(pm, precision, /*differentiate=*/!module.getOps<dl::TrainSetupOp>().empty(),
                    augmentInStep);
}
} // namespace

LogicalResult runPrecisionPipeline(ModuleOp module, int64_t batchSize, StringRef precision) {
  PassManager pm(module.getContext());
  addPrecisionPasses(pm, module, batchSize, precision);
  return pm.run(module);
}

LogicalResult runKernelPipeline(ModuleOp module, int64_t batchSize,
                                llvm::ArrayRef<std::string> targets, StringRef precision,
                                std::optional<bool> augmentInStep, const KernelChoices &choices) {
  PassManager pm(module.getContext());
  addPrecisionPasses(pm, module, batchSize, precision,
                     augmentInStep.value_or(targets.empty() || llvm::is_contained(targets, "cuda")));
  // dlc's generated LSTM gradient is what reads the forward's states (the
  // CPU keeps its own, cuDNN runs the forward again).
  if (!module.getOps<dl::TrainSetupOp>().empty() && llvm::is_contained(targets, "cuda") &&
      choices.kernels != "library")
    pm.addPass(createKeepLstmStatesPass());
  FuseKernelsPassOptions fuse;
  // A vendor library's groups are formed only where the GPU is a target.
  if (llvm::is_contained(targets, "cuda"))
    fuse.kernels = choices.kernels;
  pm.addPass(createFuseKernelsPass(fuse));
  if (!targets.empty()) {
    SelectKernelsPassOptions select;
    select.targets = targets;
    select.deterministic = choices.deterministic;
    select.kernels = choices.kernels;
    pm.addPass(createSelectKernelsPass(select));
    pm.addPass(createPlanMemoryPass());
  }
  return pm.run(module);
}

} // namespace dlc
