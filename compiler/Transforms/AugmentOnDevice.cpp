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

using Shape = SmallVector<int64_t, 3>;

/// (height, width) of an IntOrPair option, or nothing.
std::optional<std::pair<int64_t, int64_t>> sizeOption(dl::ConfigAttr config, StringRef name) {
  Attribute a = config.getOptions().get(name);
  if (auto i = dyn_cast_or_null<IntegerAttr>(a))
    return std::make_pair(i.getInt(), i.getInt());
  if (auto list = dyn_cast_or_null<ArrayAttr>(a); list && list.size() == 2) {
    auto h = dyn_cast<IntegerAttr>(list[0]), w = dyn_cast<IntegerAttr>(list[1]);
    if (h && w)
      return std::make_pair(h.getInt(), w.getInt());
  }
  if (auto pair = dyn_cast_or_null<DenseI64ArrayAttr>(a); pair && pair.size() == 2)
    return std::make_pair(pair[0], pair[1]);
  return std::nullopt;
}

/// One example's shape as the data source gives it, when the setup says:
/// image_folder decodes to image_size (default: the model's input), Fashion-
/// MNIST's images are 28x28; other sources' shapes are the files'.
std::optional<Shape> sourceShape(dl::TrainSetupOp setup, ArrayRef<int64_t> model) {
  std::optional<dl::ConfigAttr> source = setup.getDataSource();
  if (!source || model.size() != 3)
    return std::nullopt;
  StringRef kind = source->getKind().getValue();
  if (kind == "fashion_mnist")
    return Shape{28, 28, model[2]};
  if (kind != "image_folder")
    return std::nullopt;
  auto size = sizeOption(*source, "image_size");
  auto mode = source->getOptions().getAs<StringAttr>("color_mode");
  int64_t channels = !mode ? model[2] : mode.getValue() == "rgb" ? 3 : mode.getValue() == "rgba" ? 4 : 1;
  return size ? Shape{size->first, size->second, channels} : Shape{model[0], model[1], channels};
}

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
    auto kindAt = [&](size_t i) { return cast<dl::ConfigAttr>(transforms[i]).getKind().getValue(); };
    const size_t n = transforms.size();
    // The transforms apply to the first input; one not stored as f32 (token
    // ids, a declared float16 image) goes through the loader, which converts
    // or refuses it with its own message.
    Block &body = step.getBody().front();
    auto image = step.getNumArguments() > 0
                     ? dyn_cast<RankedTensorType>(body.getArgument(0).getType())
                     : RankedTensorType();
    Builder b(&getContext());
    if (!image || !image.getElementType().isF32()) {
      setup.setDeviceTransformsFromAttr(b.getI64IntegerAttr(int64_t(n)));
      return;
    }
    // The example's shape before each transform, where known: after a
    // resize or random_crop its size and the model's channels, else the
    // source's; back from the model's input through the shape-keeping ones.
    ArrayRef<int64_t> modelShape = image.getShape().drop_front();
    std::vector<std::optional<Shape>> before(n + 1);
    before[0] = sourceShape(setup, modelShape);
    for (size_t i = 0; i < n; ++i) {
      auto config = cast<dl::ConfigAttr>(transforms[i]);
      auto height = config.getOptions().getAs<IntegerAttr>("height");
      auto width = config.getOptions().getAs<IntegerAttr>("width");
      before[i + 1] = dl::changesExampleShape(kindAt(i)) && height && width && modelShape.size() == 3
                          ? std::optional<Shape>(Shape{height.getInt(), width.getInt(), modelShape[2]})
                          : before[i];
    }
    before[n] = Shape(modelShape.begin(), modelShape.end());
    for (size_t i = n; i-- > 0;)
      if (!dl::changesExampleShape(kindAt(i)) && !before[i])
        before[i] = before[i + 1];
    // From the end, every transform whose input shape is known and that the
    // step can apply: those that keep the shape, and a random_crop of an
    // image at least its size (resize, and a crop that would resize, stay
    // with the loader).
    size_t from = n;
    while (from > 0 && before[from - 1]) {
      StringRef kind = kindAt(from - 1);
      const Shape &in = *before[from - 1], &out = *before[from];
      if (kind == "random_crop" ? in.size() != 3 || in[0] < out[0] || in[1] < out[1]
                                : dl::changesExampleShape(kind))
        break;
      --from;
    }
    const int64_t batch = image.getDimSize(0);
    auto batchOf = [&](const Shape &example) {
      SmallVector<int64_t> shape{batch};
      shape.append(example.begin(), example.end());
      return RankedTensorType::get(shape, image.getElementType());
    };
    auto i64 = b.getIntegerType(64);
    auto idsType = RankedTensorType::get({batch}, i64);
    auto seedType = RankedTensorType::get({2}, i64);
    Location loc = setup.getLoc();
    // The chain of dl.augment ops from |x|, each checked where it is made:
    // a transform that does not fit the model's input is an error at its
    // place in the .dl file, whichever target the bundle is for.
    auto chain = [&](OpBuilder &builder, Value x, Value ids, Value seed,
                     Operation **first) -> FailureOr<Value> {
      for (size_t i = from; i < n; ++i) {
        // Named by the transform, as a layer's ops are by the layer: kernels
        // read "random_flip.augment".
        auto config = cast<dl::ConfigAttr>(transforms[i]);
        Location at = loc; // where the transform is spelt, when the setup says
        if (std::optional<ArrayAttr> locations = setup.getDataTransformLocations())
          at = cast<LocationAttr>((*locations)[i]);
        auto op = builder.create<dl::AugmentOp>(NameLoc::get(config.getKind(), at),
                                                batchOf(*before[i + 1]), x, ids, seed, config,
                                                b.getI64IntegerAttr(int64_t(i)));
        if (failed(op.verify()))
          return failure();
        x = op.getOutput();
        *first = *first ? *first : op.getOperation();
      }
      return x;
    };
    if (!inStep && from < n) {
      // Checked all the same, on a scratch block the step never sees.
      Block scratch;
      OpBuilder builder(&getContext());
      builder.setInsertionPointToEnd(&scratch);
      Operation *first = nullptr;
      FailureOr<Value> checked =
          chain(builder, scratch.addArgument(batchOf(*before[from]), loc), scratch.addArgument(idsType, loc),
                scratch.addArgument(seedType, loc), &first);
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(scratch)))
        op.erase();
      if (failed(checked))
        return signalPassFailure();
      from = n;
    }
    setup.setDeviceTransformsFromAttr(b.getI64IntegerAttr(int64_t(from)));
    if (from == n)
      return;

    unsigned end = step.getNumArguments();
    step.insertArguments({end, end}, {idsType, seedType}, {DictionaryAttr(), DictionaryAttr()},
                         {loc, loc});
    step.setArgAttr(end, "dl.name", b.getStringAttr("example_ids"));
    step.setArgAttr(end + 1, "dl.name", b.getStringAttr("augment_seed"));

    Value original = body.getArgument(0);
    Value ids = body.getArgument(end), seed = body.getArgument(end + 1);
    OpBuilder builder(&getContext());
    builder.setInsertionPointToStart(&body);
    // The step now takes the loader's batch before its transforms: when a
    // crop is among them, of another shape, under another name (a batch
    // file can hold both).
    Value loaded = original;
    const bool cropped = batchOf(*before[from]) != image;
    if (cropped) {
      auto name = step.getArgAttrOfType<StringAttr>(0, "dl.name");
      step.insertArgument(0u, batchOf(*before[from]), DictionaryAttr(), original.getLoc());
      step.setArgAttr(0, "dl.name",
                      b.getStringAttr((name ? name.getValue() : StringRef("input")) + "/uncropped"));
      loaded = body.getArgument(0);
    }
    Operation *first = nullptr;
    FailureOr<Value> x = chain(builder, loaded, ids, seed, &first);
    if (failed(x))
      return signalPassFailure();
    original.replaceAllUsesExcept(*x, first);
    if (cropped) // the model's own input is gone from the step
      step.eraseArgument(1);
  }
};

} // namespace
