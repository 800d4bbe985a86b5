//===- DLOps.cpp - Verifiers of the dl dialect ----------------------------===//
//
// Shape functions live in DLShapes.cpp; this file holds the remaining
// verifiers and the generated op definitions.
//
//===----------------------------------------------------------------------===//
#include "dialects/DL/DLOps.h"
#include "runtime/loss_scale.h"
#include "dialects/DL/DLCatalog.h"

#include <cmath>

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace dlc::dl;

bool dlc::dl::areRefinableTypes(TypeRange inferred, TypeRange actual) {
  if (inferred.size() != actual.size())
    return false;
  for (auto [want, have] : llvm::zip(inferred, actual)) {
    if (getElementTypeOrSelf(want) != getElementTypeOrSelf(have))
      return false;
    if (failed(verifyCompatibleShape(want, have)))
      return false;
  }
  return true;
}

#define DL_REFINABLE_RESULTS(OpClass)                                                      \
  bool OpClass::isCompatibleReturnTypes(TypeRange l, TypeRange r) {                         \
    return areRefinableTypes(l, r);                                                        \
  }
DL_REFINABLE_RESULTS(Conv2DOp)
DL_REFINABLE_RESULTS(MaxPool2DOp)
DL_REFINABLE_RESULTS(AvgPool2DOp)
DL_REFINABLE_RESULTS(GlobalMaxPool2DOp)
DL_REFINABLE_RESULTS(GlobalAvgPool2DOp)
DL_REFINABLE_RESULTS(DenseOp)
DL_REFINABLE_RESULTS(FlattenOp)
DL_REFINABLE_RESULTS(ReshapeOp)
DL_REFINABLE_RESULTS(CastOp)
DL_REFINABLE_RESULTS(DropoutOp)
DL_REFINABLE_RESULTS(BatchNormOp)
DL_REFINABLE_RESULTS(EmbeddingOp)
DL_REFINABLE_RESULTS(LSTMOp)
DL_REFINABLE_RESULTS(ReluOp)
DL_REFINABLE_RESULTS(SigmoidOp)
DL_REFINABLE_RESULTS(TanhOp)
DL_REFINABLE_RESULTS(GeluOp)
DL_REFINABLE_RESULTS(LeakyReluOp)
DL_REFINABLE_RESULTS(SoftmaxOp)
DL_REFINABLE_RESULTS(AddOp)
DL_REFINABLE_RESULTS(ConcatOp)
#undef DL_REFINABLE_RESULTS

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  RankedTensorType type = getTensorType();
  if (!type.getElementType().isF16() && !type.getElementType().isBF16() &&
      !type.getElementType().isF32() && !type.getElementType().isF64())
    return emitOpError("parameter must hold floats, got ") << type;
  if (type.getNumElements() > kMaxTensorElements)
    return emitOpError("parameter has more than 2^40 elements");
  if (getSymName().empty())
    return emitOpError("parameter name must not be empty");
  if (std::optional<StringRef> file = getWeightsFile(); file && file->empty())
    return emitOpError("weights file name must not be empty");
  if (std::optional<StringRef> layout = getWeightsLayout()) {
    if (*layout != "torch")
      return emitOpError("weights layout must be \"torch\" (PyTorch's), got \"") << *layout << "\"";
    if (!getWeightsFile())
      return emitOpError("a weights layout needs a weights file");
  }
  if (std::optional<ArrayRef<int64_t>> rows = getImageRows())
    if (rows->size() != 3 || !getWeightsLayout() || type.getRank() != 2 ||
        (*rows)[0] * (*rows)[1] * (*rows)[2] != type.getDimSize(0))
      return emitOpError("image_rows [H, W, C] are for a torch-layout kernel of H * W * C rows");
  bool constant = getInitializer() == Initializer::constant;
  if (constant != getInitialValue().has_value())
    return emitOpError("the constant initializer, and only it, takes values");
  if (constant && getInitialValueAttr().getType().getShape() != type.getShape())
    return emitOpError("constant of shape ")
           << getInitialValueAttr().getType() << " does not fit parameter type " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param = symbolTable.lookupNearestSymbolFrom<ParamOp>(*this, getParamAttr());
  if (!param)
    return emitOpError("refers to unknown parameter ") << getParamAttr();
  if (param.getType() != getType())
    return emitOpError("type ") << getType() << " does not match parameter " << getParamAttr()
                                << " of type " << param.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// TrainSetupOp
//===----------------------------------------------------------------------===//

ConfigAttr TrainSetupOp::lossOf(unsigned output) {
  if (auto every = dyn_cast<ConfigAttr>(getLoss()))
    return every;
  auto losses = cast<ArrayAttr>(getLoss());
  return output < losses.size() ? cast<ConfigAttr>(losses[output]) : ConfigAttr();
}

double TrainSetupOp::lossWeightOf(unsigned output) {
  std::optional<ArrayRef<double>> weights = getLossWeights();
  return weights && output < weights->size() ? (*weights)[output] : 1.0;
}

SmallVector<ConfigAttr> TrainSetupOp::metricsOf(unsigned output) {
  std::optional<ArrayRef<int64_t>> outputs = getMetricOutputs();
  SmallVector<ConfigAttr> metrics;
  for (auto [index, metric] : llvm::enumerate(getMetrics()))
    if ((outputs && index < outputs->size() ? (*outputs)[index] : 0) == int64_t(output))
      metrics.push_back(cast<ConfigAttr>(metric));
  return metrics;
}

/// The number of results of the module's @forward, if it has one.
static std::optional<unsigned> forwardResults(Operation *setup) {
  auto module = setup->getParentOfType<ModuleOp>();
  auto forward = module ? dyn_cast_or_null<FunctionOpInterface>(module.lookupSymbol("forward"))
                        : FunctionOpInterface();
  if (!forward)
    return std::nullopt;
  return forward.getResultTypes().size();
}

LogicalResult TrainSetupOp::verify() {
  auto emit = [&]() { return emitOpError(); };
  if (failed(verifyConfig(Category::Optimizer, getOptimizer(), emit)))
    return failure();
  std::optional<unsigned> outputs = forwardResults(*this);
  if (auto every = dyn_cast<ConfigAttr>(getLoss())) {
    if (failed(verifyConfig(Category::Loss, every, emit)))
      return failure();
  } else {
    auto losses = cast<ArrayAttr>(getLoss());
    for (Attribute loss : losses)
      if (failed(verifyConfig(Category::Loss, cast<ConfigAttr>(loss), emit)))
        return failure();
    if (outputs && losses.size() != *outputs)
      return emitOpError("has ") << losses.size() << " losses for " << *outputs << " model outputs";
  }
  if (std::optional<ArrayRef<double>> weights = getLossWeights()) {
    if (outputs && weights->size() != *outputs)
      return emitOpError("has ") << weights->size() << " loss weights for " << *outputs
                                 << " model outputs";
    for (double w : *weights)
      if (!(w >= 0 && std::isfinite(w)))
        return emitOpError("loss weights must be finite and not negative, got ") << w;
  }
  for (Attribute metric : getMetrics())
    if (failed(verifyConfig(Category::Metric, cast<ConfigAttr>(metric), emit)))
      return failure();
  if (std::optional<ArrayRef<int64_t>> metricOutputs = getMetricOutputs()) {
    if (metricOutputs->size() != getMetrics().size())
      return emitOpError("has ") << metricOutputs->size() << " metric outputs for "
                                 << getMetrics().size() << " metrics";
    for (int64_t o : *metricOutputs)
      if (o < 0 || (outputs && o >= int64_t(*outputs)))
        return emitOpError("metric output ") << o << " is not an output of the model";
  }
  if (std::optional<ConfigAttr> source = getDataSource())
    if (failed(verifyConfig(Category::DataSource, *source, emit)))
      return failure();
  for (Attribute step : getDataTransforms())
    if (failed(verifyConfig(Category::DataTransform, cast<ConfigAttr>(step), emit)))
      return failure();
  if (std::optional<ArrayAttr> locations = getDataTransformLocations())
    if (locations->size() != getDataTransforms().size())
      return emitOpError("has ") << locations->size() << " data transform locations for "
                                 << getDataTransforms().size() << " data transforms";
  if (std::optional<uint64_t> from = getDeviceTransformsFrom()) {
    if (*from > getDataTransforms().size())
      return emitOpError("device_transforms_from ") << *from << " is past the "
                                                    << getDataTransforms().size() << " data transforms";
    for (Attribute step : getDataTransforms().getValue().drop_front(*from)) {
      StringRef kind = cast<ConfigAttr>(step).getKind().getValue();
      if (changesExampleShape(kind) && kind != "random_crop")
        return emitOpError("data transform '")
               << kind << "' resizes the example, so it cannot run in the training step";
    }
  }
  if (std::optional<ConfigAttr> lossScale = getLossScale())
    if (failed(verifyConfig(Category::LossScale, *lossScale, emit)))
      return failure();
  if (std::optional<ArrayAttr> callbacks = getCallbacks())
    for (Attribute callback : *callbacks)
      if (failed(verifyConfig(Category::Callback, cast<ConfigAttr>(callback), emit)))
        return failure();
  Attribute validation = getValidation();
  if (auto split = dyn_cast<StringAttr>(validation)) {
    if (split.getValue() != "test")
      return emitOpError("validation must be \"test\" or a fraction, got ") << split;
  } else {
    double fraction = cast<FloatAttr>(validation).getValueAsDouble();
    if (!(fraction > 0 && fraction < 1))
      return emitOpError("validation fraction must be in (0, 1), got ") << fraction;
  }
  auto module = (*this)->getParentOfType<ModuleOp>();
  if (llvm::count_if(module.getOps<TrainSetupOp>(), [](TrainSetupOp) { return true; }) > 1)
    return emitOpError("a module holds at most one training setup");
  return success();
}

//===----------------------------------------------------------------------===//
// AssignOp and OptimizerUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult AssignOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param = symbolTable.lookupNearestSymbolFrom<ParamOp>(*this, getParamAttr());
  if (!param)
    return emitOpError("refers to unknown parameter ") << getParamAttr();
  if (param.getType() != getValue().getType())
    return emitOpError("value of type ") << getValue().getType() << " cannot be stored into "
                                         << getParamAttr() << " of type " << param.getType();
  return success();
}

/// A loss-scaling state operand: [runtime/loss_scale.h's fields] f32.
static LogicalResult verifyLossScaleState(Operation *op, Value state, StringRef what) {
  if (!state)
    return success();
  auto type = cast<ShapedType>(state.getType());
  if (type.getRank() != 1 || type.getDimSize(0) != dlc::rt::loss_scale::kFields)
    return op->emitOpError(what) << " must be the loss-scaling state tensor<"
                                 << int(dlc::rt::loss_scale::kFields) << "xf32>, got " << type;
  return success();
}

LogicalResult LossScaleUpdateOp::verify() {
  if (failed(verifyLossScaleState(*this, getState(), "state")) ||
      failed(verifyLossScaleState(*this, getNewState(), "new state")))
    return failure();
  if (getGrads().empty())
    return emitOpError("checks at least one gradient");
  return success();
}

/// A norm of dl.gradient_norm: tensor<1xf32>.
static LogicalResult verifyNorm(Operation *op, Value norm, StringRef what) {
  auto type = cast<ShapedType>(norm.getType());
  if (type.getRank() != 1 || type.getDimSize(0) != 1 || !type.getElementType().isF32())
    return op->emitOpError(what) << " must be a norm, tensor<1xf32>, got " << type;
  return success();
}

LogicalResult AugmentOp::verify() {
  auto emit = [&]() { return emitOpError(); };
  if (failed(verifyConfig(Category::DataTransform, getConfig(), emit)))
    return failure();
  StringRef kind = getConfig().getKind().getValue();
  const bool crop = kind == "random_crop";
  if (changesExampleShape(kind) && !crop)
    return emitOpError("'") << kind << "' changes the example's shape; dl.augment takes the "
                                       "transforms that keep it, and random_crop (the loader "
                                       "applies the others)";
  auto input = cast<ShapedType>(getInput().getType());
  auto output = cast<ShapedType>(getOutput().getType());
  if (crop) {
    auto height = getConfig().getOptions().getAs<IntegerAttr>("height");
    auto width = getConfig().getOptions().getAs<IntegerAttr>("width");
    if (input.getRank() != 4 || output.getRank() != 4 || !height || !width ||
        output.getDimSize(1) != height.getInt() || output.getDimSize(2) != width.getInt() ||
        output.getDimSize(3) != input.getDimSize(3) ||
        failed(verifyCompatibleShape(ArrayRef<int64_t>{output.getDimSize(0)},
                                     ArrayRef<int64_t>{input.getDimSize(0)})))
      return emitOpError("random_crop maps [N, H, W, C] images to [N, height, width, C], got ")
             << getInput().getType() << " -> " << getOutput().getType();
    if (!ShapedType::isDynamic(input.getDimSize(1)) &&
        (input.getDimSize(1) < height.getInt() || input.getDimSize(2) < width.getInt()))
      return emitOpError("random_crop of ") << height.getInt() << "x" << width.getInt()
                                            << " from smaller images " << getInput().getType()
                                            << " (a crop that resizes stays with the loader)";
  } else if (getOutput().getType() != getInput().getType()) {
    return emitOpError("result must have the input's type ") << getInput().getType();
  }
  if (!input.hasRank() || input.getRank() < 2 ||
      llvm::any_of(input.getShape().drop_front(), ShapedType::isDynamic))
    return emitOpError("input must be a batch of examples of a static shape, got ")
           << getInput().getType();
  const bool image = kind.starts_with("random_");
  if (image && input.getRank() != 4)
    return emitOpError("'") << kind << "' needs a batch of images [N, height, width, channels], got "
                            << getInput().getType();
  const int64_t channels = input.getShape().back();
  if (kind == "imagenet_preprocess") {
    auto mode = getConfig().getOptions().getAs<StringAttr>("mode");
    if (mode && mode.getValue() != "tf" && channels != 3)
      return emitOpError("imagenet_preprocess in mode ") << mode.getValue()
                                                         << " needs RGB inputs (3 channels last)";
  }
  if (Attribute range = getConfig().getOptions().get("value_range")) {
    auto pair = dyn_cast<ArrayAttr>(range);
    auto bound = [&](unsigned i) {
      auto f = dyn_cast<FloatAttr>(pair[i]);
      return f ? f.getValueAsDouble() : std::nan("");
    };
    if (!pair || pair.size() != 2 || !(bound(0) < bound(1)))
      return emitOpError("option 'value_range' of '")
             << kind << "' must be a pair (low, high) with low < high";
  }
  if (kind == "normalize")
    for (StringRef option : {"mean", "std"})
      if (auto list = getConfig().getOptions().getAs<ArrayAttr>(option))
        if (list.size() != 1 && int64_t(list.size()) != channels)
          return emitOpError("normalize has ") << list.size() << " values of '" << option
                                               << "' for " << channels << " channels";
  auto ids = cast<ShapedType>(getExampleIds().getType());
  if (failed(verifyCompatibleShape(ids.getShape(), ArrayRef<int64_t>{input.getDimSize(0)})))
    return emitOpError("example_ids must hold one index per example, tensor<")
           << input.getDimSize(0) << "xi64>";
  if (cast<ShapedType>(getAugmentSeed().getType()).getShape() != ArrayRef<int64_t>{2})
    return emitOpError("augment_seed must be (seed, epoch), tensor<2xi64>");
  return success();
}

LogicalResult GradientNormOp::verify() {
  if (getGrads().empty())
    return emitOpError("takes the norm of at least one gradient");
  return verifyNorm(*this, getNorm(), "result");
}

LogicalResult OptimizerUpdateOp::verify() {
  if (failed(verifyLossScaleState(*this, getLossScale(), "loss_scale")))
    return failure();
  if (failed(verifyConfig(Category::Optimizer, getConfig(), [&]() { return emitOpError(); })))
    return failure();
  dlc::rt::OptimizerSettings settings;
  if (dlc::rt::Status s = dlc::rt::decodeOptimizer(settingOf(getConfig()), &settings); !s.ok())
    return emitOpError(s.message());
  const bool clipsByNorm = dlc::rt::normClip(settings) > 0;
  if (clipsByNorm != bool(getGradNorm()))
    return emitOpError(clipsByNorm ? "clips by norm, so it takes the gradient's norm (grad_norm)"
                                   : "takes a grad_norm, but its optimizer does not clip by norm");
  if (getGradNorm() && failed(verifyNorm(*this, getGradNorm(), "grad_norm")))
    return failure();
  size_t expected = optimizerSlots(getConfig()).size();
  if (getSlots().size() != expected || getNewSlots().size() != expected)
    return emitOpError("'") << getConfig().getKind().getValue() << "' with these options keeps "
                            << expected << " slot(s) per parameter, got " << getSlots().size()
                            << " operand(s) and " << getNewSlots().size() << " result(s)";
  Type type = getParam().getType();
  if (getGrad().getType() != type || getNewParam().getType() != type)
    return emitOpError("parameter, gradient and new parameter must have one type");
  for (ValueRange slots : {ValueRange(getSlots()), ValueRange(getNewSlots())})
    for (Value slot : slots)
      if (slot.getType() != type)
        return emitOpError("slots must have the parameter's type ") << type;
  return success();
}

//===----------------------------------------------------------------------===//
// LossOp
//===----------------------------------------------------------------------===//

/// A loss's weight, when it has one, is a finite factor, not negative.
static LogicalResult verifyLossWeight(Operation *op, FloatAttr weight) {
  if (weight && !(weight.getValueAsDouble() >= 0 && std::isfinite(weight.getValueAsDouble())))
    return op->emitOpError("weight must be finite and not negative, got ") << weight.getValueAsDouble();
  return success();
}

/// The loss's config is one of the catalog's, as dl.loss's.
LogicalResult LossGradOp::verify() {
  if (failed(verifyConfig(Category::Loss, getConfig(), [&]() { return emitOpError(); })) ||
      failed(verifyLossScaleState(*this, getLossScale(), "loss_scale")) ||
      failed(verifyLossWeight(*this, getWeightAttr())))
    return failure();
  if (getGrad().getType() != getPrediction().getType())
    return emitOpError("gradient type ") << getGrad().getType() << " must be the prediction's type";
  return success();
}

LogicalResult LossOp::verify() {
  if (failed(verifyConfig(Category::Loss, getConfig(), [&]() { return emitOpError(); })) ||
      failed(verifyLossWeight(*this, getWeightAttr())))
    return failure();
  auto prediction = cast<ShapedType>(getPrediction().getType());
  auto labels = cast<ShapedType>(getLabels().getType());
  if (getLoss().getType().getElementType() != prediction.getElementType())
    return emitOpError("loss type ") << getLoss().getType()
                                     << " must have the prediction's element type";
  if (getConfig().getKind() == "sparse_categorical_crossentropy") {
    if (!labels.getElementType().isSignlessInteger() || !prediction.hasRank() ||
        labels.getRank() + 1 != prediction.getRank() ||
        failed(verifyCompatibleShape(labels.getShape(), prediction.getShape().drop_back())))
      return emitOpError("sparse_categorical_crossentropy needs integer class ids shaped like "
                         "the prediction without its class axis, got ")
             << labels << " for " << prediction;
    return success();
  }
  if (!isa<FloatType>(labels.getElementType()) || failed(verifyCompatibleShape(labels, prediction)))
    return emitOpError("labels ") << labels << " must be floats shaped like the prediction "
                                  << prediction;
  return success();
}

/// Per-example ops see [N, positions..., classes] predictions and one
/// result per example.
static LogicalResult verifyPerExample(Operation *op, Value prediction, Value result) {
  auto p = dyn_cast<RankedTensorType>(prediction.getType());
  auto r = cast<ShapedType>(result.getType());
  if (!p || p.getRank() < 2)
    return op->emitOpError("needs predictions [N, classes] or [N, positions..., classes], got ")
           << prediction.getType();
  if (failed(verifyCompatibleShape(r.getShape(), p.getShape().take_front())))
    return op->emitOpError("result ") << r << " must hold one value per example of " << p;
  return success();
}

/// Labels of the prediction's shape (floats), or class ids shaped like the
/// prediction without its class axis when |sparse|.
static LogicalResult verifyLabels(Operation *op, Value prediction, Value labels, bool sparse) {
  auto p = cast<ShapedType>(prediction.getType());
  auto l = cast<ShapedType>(labels.getType());
  if (sparse) {
    if (!l.getElementType().isSignlessInteger() || !l.hasRank() ||
        failed(verifyCompatibleShape(l.getShape(), p.getShape().drop_back())))
      return op->emitOpError("needs integer class ids shaped like the prediction without its "
                             "class axis, ")
             << p << ", got " << l;
    return success();
  }
  if (!isa<FloatType>(l.getElementType()) || failed(verifyCompatibleShape(l, p)))
    return op->emitOpError("labels ") << l << " must be floats shaped like the prediction " << p;
  return success();
}

LogicalResult ExampleLossOp::verify() {
  if (failed(verifyConfig(Category::Loss, getConfig(), [&]() { return emitOpError(); })) ||
      failed(verifyLossWeight(*this, getWeightAttr())) ||
      failed(verifyPerExample(*this, getPrediction(), getLosses())))
    return failure();
  return verifyLabels(*this, getPrediction(), getLabels(),
                      getConfig().getKind() == "sparse_categorical_crossentropy");
}

LogicalResult MetricOp::verify() {
  if (failed(verifyPerExample(*this, getPrediction(), getScores())))
    return failure();
  if (getRule() != "top_k" && getRule() != "binary")
    return emitOpError("rule must be 'top_k' or 'binary', got '") << getRule() << "'";
  if (getK() < 1)
    return emitOpError("k must be at least 1, got ") << getK();
  bool sparse = isa<IntegerType>(cast<ShapedType>(getLabels().getType()).getElementType());
  if (sparse && getRule() == "binary")
    return emitOpError("binary scores need labels shaped like the prediction");
  return verifyLabels(*this, getPrediction(), getLabels(), sparse);
}

//===----------------------------------------------------------------------===//
// Custom assembly: `init glorot_uniform`
//===----------------------------------------------------------------------===//

/// `glorot_uniform`, ..., or `constant(dense<...> : tensor<...xf32>)`.
static ParseResult parseInitializer(OpAsmParser &parser, InitializerAttr &initializer,
                                    DenseElementsAttr &values) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<Initializer> value = symbolizeInitializer(keyword);
  if (!value)
    return parser.emitError(loc, "unknown initializer '") << keyword << "'";
  initializer = InitializerAttr::get(parser.getContext(), *value);
  if (*value == Initializer::constant) {
    SMLoc at = parser.getCurrentLocation();
    Attribute attr;
    if (parser.parseLParen() || parser.parseAttribute(attr) || parser.parseRParen())
      return failure();
    values = dyn_cast<DenseFPElementsAttr>(attr);
    if (!values || !values.getElementType().isF32() || !values.getType().hasStaticShape())
      return parser.emitError(at, "a constant initializer takes f32 dense elements");
  }
  return success();
}

static void printInitializer(OpAsmPrinter &printer, Operation *, InitializerAttr initializer,
                             DenseElementsAttr values) {
  printer << stringifyInitializer(initializer.getValue());
  if (values) {
    printer << "(";
    printer.printAttribute(values);
    printer << ")";
  }
}

#define GET_OP_CLASSES
#include "dialects/DL/DLOps.cpp.inc"

//===----------------------------------------------------------------------===//
// FusedOp
//===----------------------------------------------------------------------===//

LogicalResult FusedOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("has ") << getInputs().size() << " inputs but its body takes "
                               << body.getNumArguments() << " arguments";
  for (auto [i, input, arg] : llvm::enumerate(getInputs(), body.getArguments()))
    if (input.getType() != arg.getType())
      return emitOpError("input #") << i << " has type " << input.getType()
                                    << " but body argument has " << arg.getType();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("body must end with dl.yield");
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ") << yield.getValues().size()
                                  << " values whose types differ from its results";
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution gradients
//===----------------------------------------------------------------------===//

/// dy must have the shape the convolution of |input| by |kernel| produces:
/// backends index dy by that geometry.
static LogicalResult verifyConvolutionGradient(Operation *op, Value input, Value kernel, Value dy,
                                               ArrayRef<int64_t> strides,
                                               ArrayRef<int64_t> dilation, Padding padding) {
  auto x = dyn_cast<RankedTensorType>(input.getType());
  auto k = dyn_cast<RankedTensorType>(kernel.getType());
  auto g = dyn_cast<RankedTensorType>(dy.getType());
  if (!x || !k || !g)
    return success();
  if (x.getRank() != 4 || k.getRank() != 4 || g.getRank() != 4)
    return op->emitOpError("expects NHWC tensors and a [kh, kw, in, out] kernel");
  if (strides.size() != 2 || dilation.size() != 2)
    return op->emitOpError("expects two strides and two dilations");
  auto known = [](int64_t a, int64_t b) {
    return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b);
  };
  const char *axes[] = {"height", "width"};
  for (int i = 0; i < 2; ++i) {
    int64_t size = x.getDimSize(1 + i), window = k.getDimSize(i);
    if (!known(size, window) || ShapedType::isDynamic(g.getDimSize(1 + i)) || strides[i] < 1)
      continue;
    int64_t effective = dilation[i] * (window - 1) + 1;
    int64_t expected = padding == Padding::same ? (size + strides[i] - 1) / strides[i]
                                                : (size - effective) / strides[i] + 1;
    if (g.getDimSize(1 + i) != expected)
      return op->emitOpError("dy has ") << axes[i] << " " << g.getDimSize(1 + i)
                                       << " but the convolution of " << axes[i] << " " << size
                                       << " gives " << expected;
  }
  if (known(g.getDimSize(3), k.getDimSize(3)) && g.getDimSize(3) != k.getDimSize(3))
    return op->emitOpError("dy has ") << g.getDimSize(3) << " channels but the kernel has "
                                     << k.getDimSize(3) << " filters";
  if (known(x.getDimSize(3), k.getDimSize(2)) && x.getDimSize(3) != k.getDimSize(2))
    return op->emitOpError("the input has ") << x.getDimSize(3)
                                            << " channels but the kernel takes " << k.getDimSize(2);
  return success();
}

LogicalResult Conv2DGradInputOp::verify() {
  return verifyConvolutionGradient(*this, getDx(), getKernel(), getDy(), getStrides(),
                                   getDilation(), getPadding());
}

LogicalResult Conv2DGradKernelOp::verify() {
  return verifyConvolutionGradient(*this, getInput(), getDkernel(), getDy(), getStrides(),
                                   getDilation(), getPadding());
}
