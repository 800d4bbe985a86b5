//===- AugmentOnDevice.cpp - Data augmentation inside the training step ---===//
//
// Implements `dlc-augment-on-device`. The data section's transforms that
// keep an example's shape, from the last one that changes it (resize,
// random_crop) on, become dl.augment ops at the head of @train_step, so they
// run on the device that trains, on the batch it was given; the loader
// applies only those before (decoding and resizing stay on the host):
//
//   @train_step(%image, %labels, %step, %example_ids, %augment_seed)
//     %a = dl.augment %image, %example_ids, %augment_seed {config = random_flip, position = 1}
//     %b = dl.augment %a, %example_ids, %augment_seed {config = rescale, position = 2}
//     ... the step, reading %b where it read %image
//
// The setup records the split as `device_transforms_from`. The draws are
// keyed as the loader keys them, so the batch the step sees is the one the
// host would have made. Evaluation keeps the loader's preprocessing (its
// random transforms are the identity).
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"
#include "dialects/DL/DLCatalog.h"
#include "dialects/DL/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_AUGMENTONDEVICEPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

struct AugmentOnDevicePass : dlc::impl::AugmentOnDevicePassBase<AugmentOnDevicePass> {
  using AugmentOnDevicePassBase::AugmentOnDevicePassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto setups = module.getOps<dl::TrainSetupOp>();
    auto step = module.lookupSymbol<func::FuncOp>("train_step");
    if (setups.empty() || !step || step.isExternal())
      return;
    dl::TrainSetupOp setup = *setups.begin();
    if (setup.getDeviceTransformsFrom())
      return; // decided already
    ArrayRef<Attribute> transforms = setup.getDataTransforms().getValue();
    size_t from = transforms.size();
    while (from > 0 && !dl::changesExampleShape(cast<dl::ConfigAttr>(transforms[from - 1]).getKind()))
      --from;
    // The transforms apply to the first input; one not stored as f32 (token
    // ids, a declared float16 image) goes through the loader, which converts
    // or refuses it with its own message.
    Block &body = step.getBody().front();
    auto image = step.getNumArguments() > 0
                     ? dyn_cast<RankedTensorType>(body.getArgument(0).getType())
                     : RankedTensorType();
    if (!image || !image.getElementType().isF32() || !inStep)
      from = transforms.size();
    Builder b(&getContext());
    setup.setDeviceTransformsFromAttr(b.getI64IntegerAttr(int64_t(from)));
    if (from == transforms.size())
      return;

    const int64_t batch = image.getDimSize(0);
    auto i64 = b.getIntegerType(64);
    auto idsType = RankedTensorType::get({batch}, i64);
    auto seedType = RankedTensorType::get({2}, i64);
    Location loc = setup.getLoc();
    unsigned end = step.getNumArguments();
    step.insertArguments({end, end}, {idsType, seedType}, {DictionaryAttr(), DictionaryAttr()},
                         {loc, loc});
    step.setArgAttr(end, "dl.name", b.getStringAttr("example_ids"));
    step.setArgAttr(end + 1, "dl.name", b.getStringAttr("augment_seed"));

    Value original = body.getArgument(0);
    Value ids = body.getArgument(end), seed = body.getArgument(end + 1);
    OpBuilder builder(&getContext());
    builder.setInsertionPointToStart(&body);
    Value x = original;
    Operation *first = nullptr;
    for (size_t i = from; i < transforms.size(); ++i) {
      // Named by the transform, as a layer's ops are by the layer: kernels
      // read "random_flip.augment".
      auto config = cast<dl::ConfigAttr>(transforms[i]);
      auto op = builder.create<dl::AugmentOp>(NameLoc::get(config.getKind(), loc), image, x, ids, seed,
                                              config, b.getI64IntegerAttr(int64_t(i)));
      // Checked here, where a transform that does not fit the model's input
      // is an error at the training setup's location.
      if (failed(op.verify()))
        return signalPassFailure();
      x = op.getOutput();
      first = first ? first : op.getOperation();
    }
    original.replaceAllUsesExcept(x, first);
  }
};

} // namespace
