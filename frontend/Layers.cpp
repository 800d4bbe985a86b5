//===- Layers.cpp - The layers of the .dl language ------------------------===//
//
// Defaults follow Keras 3 (keras.layers.*). Each emitter checks what it needs
// to size the layer's parameters (rank, channels, dtype) and leaves the rest
// of the shape checking to the op's shape function.
//
//===----------------------------------------------------------------------===//
#include "frontend/Layers.h"
#include "dialects/DL/DLOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;
using namespace dlc;
using dl::OptionDefault;
using dl::OptionSpec;
using dl::OptionType;
using D = OptionDefault;
using T = OptionType;

namespace {
const dl::Range kAtLeastOne{1, std::numeric_limits<double>::infinity()};
const dl::Range kNonNegative{0, std::numeric_limits<double>::infinity()};

const std::vector<const char *> kActivations = {"linear", "relu",    "sigmoid",   "tanh",
                                                "softmax", "gelu", "leaky_relu"};
const std::vector<const char *> kInitializers = {
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal",
    "orthogonal",     "uniform",       "normal",     "zeros",     "ones"};

OptionSpec activationOption() { return {"activation", T::Word, D::of("linear"), {}, kActivations}; }
OptionSpec initializerOption(const char *name, const char *value) {
  return {name, T::Word, D::of(value), {}, kInitializers};
}
OptionSpec paddingOption() { return {"padding", T::Word, D::of("valid"), {}, {"valid", "same"}}; }
OptionSpec pairOption(const char *name, OptionDefault value) {
  return {name, T::IntOrPair, value, kAtLeastOne};
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

int64_t intOption(const LayerCall &call, StringRef name) {
  return cast<IntegerAttr>(call.options.get(name)).getInt();
}
double floatOption(const LayerCall &call, StringRef name) {
  return cast<FloatAttr>(call.options.get(name)).getValueAsDouble();
}
bool boolOption(const LayerCall &call, StringRef name) {
  return cast<BoolAttr>(call.options.get(name)).getValue();
}
StringRef wordOption(const LayerCall &call, StringRef name) {
  return cast<StringAttr>(call.options.get(name)).getValue();
}
DenseI64ArrayAttr pairOption(const LayerCall &call, StringRef name) {
  return cast<DenseI64ArrayAttr>(call.options.get(name));
}

std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

/// The input as a ranked float tensor of |rank| (or at least |rank| when
/// |atLeast|), with a message that says what the layer expects.
FailureOr<RankedTensorType> floatInput(const LayerCall &call, StringRef layer, int64_t rank,
                                       StringRef expected, bool atLeast = false) {
  auto type = dyn_cast<RankedTensorType>(call.inputs.front().getType());
  if (!type || (atLeast ? type.getRank() < rank : type.getRank() != rank)) {
    emitError(call.loc) << layer << " expects " << expected << ", got "
                        << typeText(call.inputs.front().getType());
    return failure();
  }
  if (!isa<FloatType>(type.getElementType())) {
    emitError(call.loc) << layer << " expects a float input, got "
                        << typeText(type.getElementType())
                        << "; integer inputs feed an embedding";
    return failure();
  }
  for (int64_t dim : type.getShape().drop_front())
    if (ShapedType::isDynamic(dim)) {
      emitError(call.loc) << layer << " needs every dimension but the batch to be known, got "
                          << typeText(type);
      return failure();
    }
  return type;
}

/// The input for layers that keep any float shape (activations, dropout).
FailureOr<RankedTensorType> anyFloatInput(const LayerCall &call, StringRef layer) {
  return floatInput(call, layer, 1, "a batched float tensor", /*atLeast=*/true);
}

Value optionalBias(LayerEmitter &emitter, const LayerCall &call, int64_t size, Type element) {
  if (!boolOption(call, "use_bias"))
    return {};
  return emitter.param(call, "bias", {size}, element, wordOption(call, "bias_initializer"));
}

//===----------------------------------------------------------------------===//
// Emitters
//===----------------------------------------------------------------------===//

FailureOr<Value> emitConv2D(LayerEmitter &emitter, const LayerCall &call) {
  FailureOr<RankedTensorType> input = floatInput(call, "conv2d", 4, "an NHWC input [N, H, W, C]");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> kernelSize = pairOption(call, "kernel_size").asArrayRef();
  ArrayRef<int64_t> strides = pairOption(call, "strides").asArrayRef();
  ArrayRef<int64_t> dilation = pairOption(call, "dilation_rate").asArrayRef();
  if ((strides[0] > 1 || strides[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) {
    emitError(call.loc) << "conv2d cannot combine strides > 1 with dilation_rate > 1 (as in Keras)";
    return failure();
  }
  int64_t filters = intOption(call, "filters");
  Type element = input->getElementType();
  Value kernel = emitter.param(call, "kernel", {kernelSize[0], kernelSize[1], input->getDimSize(3), filters},
                               element, wordOption(call, "kernel_initializer"));
  SmallVector<Value> operands{call.inputs.front(), kernel};
  if (Value bias = optionalBias(emitter, call, filters, element))
    operands.push_back(bias);
  Builder &b = emitter.getBuilder();
  auto padding = dl::PaddingAttr::get(b.getContext(), *dl::symbolizePadding(wordOption(call, "padding")));
  FailureOr<Value> conv = emitter.create<dl::Conv2DOp>(
      call, operands,
      {b.getNamedAttr("strides", b.getDenseI64ArrayAttr(strides)), b.getNamedAttr("padding", padding),
       b.getNamedAttr("dilation", b.getDenseI64ArrayAttr(dilation))});
  if (failed(conv))
    return failure();
  return emitter.activation(call, *conv, wordOption(call, "activation"));
}

template <typename PoolOp>
FailureOr<Value> emitPool2D(LayerEmitter &emitter, const LayerCall &call, StringRef layer) {
  if (failed(floatInput(call, layer, 4, "an NHWC input [N, H, W, C]")))
    return failure();
  Builder &b = emitter.getBuilder();
  DenseI64ArrayAttr poolSize = pairOption(call, "pool_size");
  // Keras: strides default to the pool size.
  Attribute strides = call.options.get("strides");
  auto padding = dl::PaddingAttr::get(b.getContext(), *dl::symbolizePadding(wordOption(call, "padding")));
  return emitter.create<PoolOp>(call, call.inputs.front(),
                                {b.getNamedAttr("pool_size", poolSize),
                                 b.getNamedAttr("strides", strides ? strides : poolSize),
                                 b.getNamedAttr("padding", padding)});
}

FailureOr<Value> emitMaxPool2D(LayerEmitter &emitter, const LayerCall &call) {
  return emitPool2D<dl::MaxPool2DOp>(emitter, call, "max_pool2d");
}
FailureOr<Value> emitAvgPool2D(LayerEmitter &emitter, const LayerCall &call) {
  return emitPool2D<dl::AvgPool2DOp>(emitter, call, "avg_pool2d");
}
FailureOr<Value> emitGlobalMaxPool2D(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(floatInput(call, "global_max_pool2d", 4, "an NHWC input [N, H, W, C]")))
    return failure();
  return emitter.create<dl::GlobalMaxPool2DOp>(call, call.inputs.front());
}
FailureOr<Value> emitGlobalAvgPool2D(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(floatInput(call, "global_avg_pool2d", 4, "an NHWC input [N, H, W, C]")))
    return failure();
  return emitter.create<dl::GlobalAvgPool2DOp>(call, call.inputs.front());
}

FailureOr<Value> emitDense(LayerEmitter &emitter, const LayerCall &call) {
  FailureOr<RankedTensorType> input =
      floatInput(call, "dense", 2, "an input [N, ..., features]", /*atLeast=*/true);
  if (failed(input))
    return failure();
  int64_t units = intOption(call, "units");
  Type element = input->getElementType();
  Value kernel = emitter.param(call, "kernel", {input->getShape().back(), units}, element,
                               wordOption(call, "kernel_initializer"));
  SmallVector<Value> operands{call.inputs.front(), kernel};
  if (Value bias = optionalBias(emitter, call, units, element))
    operands.push_back(bias);
  FailureOr<Value> dense = emitter.create<dl::DenseOp>(call, operands);
  if (failed(dense))
    return failure();
  return emitter.activation(call, *dense, wordOption(call, "activation"));
}

FailureOr<Value> emitFlatten(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(anyFloatInput(call, "flatten")))
    return failure();
  return emitter.create<dl::FlattenOp>(call, call.inputs.front());
}

FailureOr<Value> emitReshape(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(anyFloatInput(call, "reshape")))
    return failure();
  Builder &b = emitter.getBuilder();
  return emitter.create<dl::ReshapeOp>(call, call.inputs.front(),
                                       {b.getNamedAttr("shape", call.options.get("target_shape"))});
}

FailureOr<Value> emitDropout(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(anyFloatInput(call, "dropout")))
    return failure();
  Builder &b = emitter.getBuilder();
  // Without a seed, the layer name decides the mask stream, so that every
  // backend draws the same masks and two dropout layers differ.
  Attribute seed = call.options.get("seed");
  if (!seed)
    seed = b.getI64IntegerAttr(int64_t(llvm::xxh3_64bits(call.name) >> 1));
  return emitter.create<dl::DropoutOp>(
      call, call.inputs.front(),
      {b.getNamedAttr("rate", call.options.get("rate")), b.getNamedAttr("seed", seed)});
}

FailureOr<Value> emitBatchNorm(LayerEmitter &emitter, const LayerCall &call) {
  FailureOr<RankedTensorType> input = anyFloatInput(call, "batch_norm");
  if (failed(input))
    return failure();
  int64_t rank = input->getRank(), axis = intOption(call, "axis");
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized <= 0 || normalized >= rank) {
    emitError(call.loc) << "batch_norm axis " << axis << " is out of range for "
                        << typeText(*input) << " (the batch axis cannot be normalized)";
    return failure();
  }
  int64_t channels = input->getDimSize(normalized);
  Type element = input->getElementType();
  Value gamma = boolOption(call, "scale") ? emitter.param(call, "gamma", {channels}, element, "ones")
                                          : Value();
  Value beta = boolOption(call, "center") ? emitter.param(call, "beta", {channels}, element, "zeros")
                                          : Value();
  Value mean = emitter.param(call, "moving_mean", {channels}, element, "zeros", /*trainable=*/false);
  Value variance =
      emitter.param(call, "moving_variance", {channels}, element, "ones", /*trainable=*/false);
  SmallVector<Value> operands{call.inputs.front()};
  if (gamma)
    operands.push_back(gamma);
  if (beta)
    operands.push_back(beta);
  operands.append({mean, variance});
  Builder &b = emitter.getBuilder();
  return emitter.create<dl::BatchNormOp>(
      call, operands,
      {b.getNamedAttr("axis", b.getI64IntegerAttr(axis)),
       b.getNamedAttr("momentum", call.options.get("momentum")),
       b.getNamedAttr("epsilon", call.options.get("epsilon")),
       b.getNamedAttr("operandSegmentSizes",
                      b.getDenseI32ArrayAttr({1, gamma ? 1 : 0, beta ? 1 : 0, 1, 1}))});
}

FailureOr<Value> emitEmbedding(LayerEmitter &emitter, const LayerCall &call) {
  auto type = dyn_cast<RankedTensorType>(call.inputs.front().getType());
  if (!type || type.getRank() < 1 || !type.getElementType().isSignlessInteger() ||
      (type.getElementTypeBitWidth() != 32 && type.getElementTypeBitWidth() != 64)) {
    InFlightDiagnostic diag = emitError(call.loc)
                              << "embedding expects integer token ids (int32 or int64), got "
                              << typeText(call.inputs.front().getType());
    diag.attachNote() << "declare the input with its type, e.g. `input tokens: int32[20]`";
    return failure();
  }
  Value table = emitter.param(call, "embeddings",
                              {intOption(call, "input_dim"), intOption(call, "output_dim")},
                              emitter.getBuilder().getF32Type(),
                              wordOption(call, "embeddings_initializer"));
  return emitter.create<dl::EmbeddingOp>(call, {call.inputs.front(), table});
}

FailureOr<Value> emitLSTM(LayerEmitter &emitter, const LayerCall &call) {
  FailureOr<RankedTensorType> input =
      floatInput(call, "lstm", 3, "an input [N, timesteps, features]");
  if (failed(input))
    return failure();
  int64_t units = intOption(call, "units");
  Type element = input->getElementType();
  Value kernel = emitter.param(call, "kernel", {input->getDimSize(2), 4 * units}, element,
                               wordOption(call, "kernel_initializer"));
  Value recurrent = emitter.param(call, "recurrent_kernel", {units, 4 * units}, element,
                                  wordOption(call, "recurrent_initializer"));
  SmallVector<Value> operands{call.inputs.front(), kernel, recurrent};
  if (boolOption(call, "use_bias"))
    operands.push_back(emitter.param(call, "bias", {4 * units}, element,
                                     boolOption(call, "unit_forget_bias") ? "lstm_bias" : "zeros"));
  Builder &b = emitter.getBuilder();
  SmallVector<NamedAttribute> attrs;
  if (boolOption(call, "return_sequences"))
    attrs.push_back(b.getNamedAttr("return_sequences", b.getUnitAttr()));
  return emitter.create<dl::LSTMOp>(call, operands, attrs);
}

FailureOr<Value> emitActivationLayer(LayerEmitter &emitter, const LayerCall &call,
                                     StringRef activation) {
  if (failed(anyFloatInput(call, activation)))
    return failure();
  return emitter.activation(call, call.inputs.front(), activation);
}
FailureOr<Value> emitRelu(LayerEmitter &e, const LayerCall &c) { return emitActivationLayer(e, c, "relu"); }
FailureOr<Value> emitSigmoid(LayerEmitter &e, const LayerCall &c) { return emitActivationLayer(e, c, "sigmoid"); }
FailureOr<Value> emitTanh(LayerEmitter &e, const LayerCall &c) { return emitActivationLayer(e, c, "tanh"); }

FailureOr<Value> emitGelu(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(anyFloatInput(call, "gelu")))
    return failure();
  Builder &b = emitter.getBuilder();
  SmallVector<NamedAttribute> attrs;
  if (boolOption(call, "approximate"))
    attrs.push_back(b.getNamedAttr("approximate", b.getUnitAttr()));
  return emitter.create<dl::GeluOp>(call, call.inputs.front(), attrs);
}

FailureOr<Value> emitSoftmax(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(anyFloatInput(call, "softmax")))
    return failure();
  Builder &b = emitter.getBuilder();
  return emitter.create<dl::SoftmaxOp>(call, call.inputs.front(),
                                       {b.getNamedAttr("axis", call.options.get("axis"))});
}

FailureOr<Value> emitLeakyRelu(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(anyFloatInput(call, "leaky_relu")))
    return failure();
  Builder &b = emitter.getBuilder();
  return emitter.create<dl::LeakyReluOp>(
      call, call.inputs.front(), {b.getNamedAttr("negative_slope", call.options.get("negative_slope"))});
}

LogicalResult checkMergeInputs(const LayerCall &call, StringRef layer) {
  for (Value input : call.inputs) {
    auto type = dyn_cast<RankedTensorType>(input.getType());
    if (!type || !isa<FloatType>(type.getElementType())) {
      emitError(call.loc) << layer << " expects float tensors, got " << typeText(input.getType());
      return failure();
    }
  }
  return success();
}

FailureOr<Value> emitAdd(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(checkMergeInputs(call, "add")))
    return failure();
  return emitter.create<dl::AddOp>(call, call.inputs);
}

FailureOr<Value> emitConcat(LayerEmitter &emitter, const LayerCall &call) {
  if (failed(checkMergeInputs(call, "concat")))
    return failure();
  Builder &b = emitter.getBuilder();
  return emitter.create<dl::ConcatOp>(call, call.inputs,
                                      {b.getNamedAttr("axis", call.options.get("axis"))});
}

const std::vector<LayerKind> &kinds() {
  static const std::vector<LayerKind> table = {
      {"conv2d",
       "conv2d",
       {{"filters", T::Int, D::required(), kAtLeastOne},
        pairOption("kernel_size", D::required()),
        pairOption("strides", D::of(1)),
        paddingOption(),
        pairOption("dilation_rate", D::of(1)),
        activationOption(),
        {"use_bias", T::Bool, D::of(true)},
        initializerOption("kernel_initializer", "glorot_uniform"),
        initializerOption("bias_initializer", "zeros")},
       false,
       emitConv2D},
      {"max_pool2d",
       "max_pooling2d",
       {pairOption("pool_size", D::of(2)), pairOption("strides", D::absent()), paddingOption()},
       false,
       emitMaxPool2D},
      {"avg_pool2d",
       "average_pooling2d",
       {pairOption("pool_size", D::of(2)), pairOption("strides", D::absent()), paddingOption()},
       false,
       emitAvgPool2D},
      {"global_max_pool2d", "global_max_pooling2d", {}, false, emitGlobalMaxPool2D},
      {"global_avg_pool2d", "global_average_pooling2d", {}, false, emitGlobalAvgPool2D},
      {"dense",
       "dense",
       {{"units", T::Int, D::required(), kAtLeastOne},
        activationOption(),
        {"use_bias", T::Bool, D::of(true)},
        initializerOption("kernel_initializer", "glorot_uniform"),
        initializerOption("bias_initializer", "zeros")},
       false,
       emitDense},
      {"flatten", "flatten", {}, false, emitFlatten},
      {"reshape",
       "reshape",
       {{"target_shape", T::IntList, D::required(), {-1, std::numeric_limits<double>::infinity()}}},
       false,
       emitReshape},
      {"dropout",
       "dropout",
       {{"rate", T::Float, D::required(), {0, 1, false, true}},
        {"seed", T::Int, D::absent(), kNonNegative}},
       false,
       emitDropout},
      {"batch_norm",
       "batch_normalization",
       {{"axis", T::Int, D::of(-1)},
        {"momentum", T::Float, D::of(0.99), {0, 1}},
        {"epsilon", T::Float, D::of(0.001), {0, std::numeric_limits<double>::infinity(), true}},
        {"center", T::Bool, D::of(true)},
        {"scale", T::Bool, D::of(true)}},
       false,
       emitBatchNorm},
      {"embedding",
       "embedding",
       {{"input_dim", T::Int, D::required(), kAtLeastOne},
        {"output_dim", T::Int, D::required(), kAtLeastOne},
        initializerOption("embeddings_initializer", "uniform")},
       false,
       emitEmbedding},
      {"lstm",
       "lstm",
       {{"units", T::Int, D::required(), kAtLeastOne},
        {"return_sequences", T::Bool, D::of(false)},
        {"use_bias", T::Bool, D::of(true)},
        {"unit_forget_bias", T::Bool, D::of(true)},
        initializerOption("kernel_initializer", "glorot_uniform"),
        initializerOption("recurrent_initializer", "orthogonal")},
       false,
       emitLSTM},
      {"relu", "relu", {}, false, emitRelu},
      {"sigmoid", "sigmoid", {}, false, emitSigmoid},
      {"tanh", "tanh", {}, false, emitTanh},
      {"gelu", "gelu", {{"approximate", T::Bool, D::of(false)}}, false, emitGelu},
      {"softmax", "softmax", {{"axis", T::Int, D::of(-1)}}, false, emitSoftmax},
      {"leaky_relu", "leaky_relu", {{"negative_slope", T::Float, D::of(0.3), kNonNegative}}, false,
       emitLeakyRelu},
      {"add", "add", {}, true, emitAdd},
      {"concat", "concatenate", {{"axis", T::Int, D::of(-1)}}, true, emitConcat},
  };
  return table;
}

/// `MaxPooling2D` -> `max_pooling2d`, as Keras derives default names.
std::string snakeCase(StringRef name) {
  std::string result;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool upper = llvm::isUpper(c);
    if (upper && i > 0 && (llvm::isLower(name[i - 1]) ||
                           (i + 1 < name.size() && llvm::isLower(name[i + 1]) && llvm::isUpper(name[i - 1]))))
      result += '_';
    result += llvm::toLower(c);
  }
  return result;
}
} // namespace

//===----------------------------------------------------------------------===//
// LayerEmitter
//===----------------------------------------------------------------------===//

Value LayerEmitter::param(const LayerCall &call, StringRef suffix, ArrayRef<int64_t> shape,
                          Type elementType, StringRef initializer, bool trainable) {
  MLIRContext *context = builder.getContext();
  auto type = RankedTensorType::get(shape, elementType);
  std::string name = call.name + "/" + suffix.str();
  OpBuilder moduleBuilder(context);
  moduleBuilder.setInsertionPoint(builder.getInsertionBlock()->getParentOp());
  auto param = moduleBuilder.create<dl::ParamOp>(call.loc, name, type,
                                                 *dl::symbolizeInitializer(initializer),
                                                 !(trainable && call.trainable), StringAttr(),
                                                 StringAttr(), DenseElementsAttr(), StringAttr(),
                                                 StringAttr(), DenseI64ArrayAttr());
  if (call.weightsFile) {
    param.setWeightsFile(call.weightsFile->path);
    param.setLayerClass(call.layerClass);
    if (call.weightsFile->torchLayout) {
      param.setWeightsLayout("torch");
      // PyTorch flattens NCHW images: a dense reading a flattened [H, W, C]
      // (through dropout) finds its kernel's columns in (C, H, W) order.
      Value input = call.inputs.empty() ? Value() : call.inputs.front();
      while (auto dropout = input ? input.getDefiningOp<dl::DropoutOp>() : nullptr)
        input = dropout.getInput();
      auto flatten = input ? input.getDefiningOp<dl::FlattenOp>() : nullptr;
      auto image = flatten ? cast<RankedTensorType>(flatten.getInput().getType()) : RankedTensorType();
      if (suffix == "kernel" && call.layerClass == "dense" && image && image.getRank() == 4 &&
          llvm::none_of(image.getShape().drop_front(), ShapedType::isDynamic))
        param.setImageRows(image.getShape().drop_front());
    }
  }
  return builder.create<dl::WeightOp>(call.loc, type, FlatSymbolRefAttr::get(context, name));
}

FailureOr<Value> LayerEmitter::activation(const LayerCall &call, Value input, StringRef name) {
  Builder &b = builder;
  if (name == "linear")
    return input;
  if (name == "relu")
    return create<dl::ReluOp>(call, input);
  if (name == "sigmoid")
    return create<dl::SigmoidOp>(call, input);
  if (name == "tanh")
    return create<dl::TanhOp>(call, input);
  if (name == "gelu")
    return create<dl::GeluOp>(call, input);
  if (name == "softmax")
    return create<dl::SoftmaxOp>(call, input, {b.getNamedAttr("axis", b.getI64IntegerAttr(-1))});
  if (name == "leaky_relu") // keras.activations.leaky_relu's slope, not the layer's 0.3
    return create<dl::LeakyReluOp>(call, input,
                                   {b.getNamedAttr("negative_slope", b.getF64FloatAttr(0.2))});
  emitError(call.loc) << "unknown activation '" << name << "'";
  return failure();
}

//===----------------------------------------------------------------------===//
// Lookup
//===----------------------------------------------------------------------===//

llvm::ArrayRef<LayerKind> dlc::layerKinds() { return kinds(); }

const LayerKind *dlc::findLayerKind(StringRef name) {
  for (const LayerKind &kind : kinds())
    if (name == kind.name)
      return &kind;
  return nullptr;
}

std::optional<std::string> dlc::suggestLayer(StringRef name, ArrayRef<std::string> moreCandidates) {
  std::string snake = snakeCase(name);
  for (const LayerKind &kind : kinds())
    if (snake == kind.name || snake == kind.defaultName)
      return std::string(kind.name);
  std::vector<std::string> candidates(moreCandidates.begin(), moreCandidates.end());
  for (const LayerKind &kind : kinds())
    candidates.push_back(kind.name);
  return dl::closestMatch(snake, candidates);
}
