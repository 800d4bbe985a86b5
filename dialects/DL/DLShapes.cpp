//===- DLShapes.cpp - Result types of the dl layer ops --------------------===//
//
// Each layer op's inferReturnTypes is its shape function: it checks operand
// ranks, sizes and attributes (reporting at the op's location, which for
// models built from .dl files is the layer's file:line:col) and computes the
// result type. Dynamic dimensions propagate as `?`; an unranked operand
// yields an unranked result that `dlc-infer-shapes` refines later.
//
//===----------------------------------------------------------------------===//
#include "dialects/DL/DLOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace dlc::dl;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// Reports shape errors at the op's location when one is given (building or
/// verifying) and stays silent otherwise (speculative inference).
class ShapeChecker {
public:
  ShapeChecker(std::optional<Location> loc, StringRef layer) : loc(loc), layer(layer) {}

  LogicalResult fail(const Twine &message) const {
    if (loc)
      emitError(*loc) << layer << ": " << message;
    return failure();
  }

  /// The ranked type of |value|, or null when unranked (the caller then
  /// returns an unranked result).
  static RankedTensorType ranked(Value value) {
    return dyn_cast<RankedTensorType>(value.getType());
  }

  LogicalResult expectRank(RankedTensorType type, int64_t rank, StringRef what) const {
    if (type.getRank() == rank)
      return success();
    return fail(Twine("expected ") + what + " of rank " + Twine(rank) + ", got " +
                typeString(type));
  }

  LogicalResult expectSameElementType(Value a, Value b, StringRef what) const {
    Type ea = cast<ShapedType>(a.getType()).getElementType();
    Type eb = cast<ShapedType>(b.getType()).getElementType();
    if (ea == eb)
      return success();
    return fail(Twine(what) + " has element type " + typeString(eb) + " but the input has " +
                typeString(ea));
  }

  /// Equal sizes, where both are known.
  LogicalResult expectDim(int64_t actual, int64_t expected, const Twine &what) const {
    if (actual == kDyn || expected == kDyn || actual == expected)
      return success();
    return fail(what + " is " + Twine(actual) + " but must be " + Twine(expected));
  }

  LogicalResult expectPair(ArrayRef<int64_t> values, StringRef what) const {
    if (values.size() != 2)
      return fail(Twine(what) + " must have 2 values (height, width), got " +
                  Twine(values.size()));
    if (values[0] < 1 || values[1] < 1)
      return fail(Twine(what) + " must be positive, got [" + Twine(values[0]) + ", " +
                  Twine(values[1]) + "]");
    if (values[0] > dlc::rt::kMaxWindowExtent || values[1] > dlc::rt::kMaxWindowExtent)
      return fail(Twine(what) + " must be at most " + Twine(dlc::rt::kMaxWindowExtent) + ", got [" +
                  Twine(values[0]) + ", " + Twine(values[1]) + "]");
    return success();
  }

  LogicalResult result(Type elementType, ArrayRef<int64_t> shape,
                       SmallVectorImpl<Type> &results) const {
    int64_t elements = 1;
    for (int64_t dim : shape) {
      if (dim == kDyn)
        continue;
      if (dim < 0)
        return fail("computed a negative dimension");
      if (dim != 0 && elements > kMaxTensorElements / dim)
        return fail("result has more than 2^40 elements");
      elements *= dim;
    }
    results.push_back(RankedTensorType::get(shape, elementType));
    return success();
  }

  static std::string typeString(Type type) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << type;
    return text;
  }

private:
  std::optional<Location> loc;
  StringRef layer;
};

LogicalResult unranked(Value like, SmallVectorImpl<Type> &results) {
  results.push_back(UnrankedTensorType::get(cast<ShapedType>(like.getType()).getElementType()));
  return success();
}

/// Output size of a window of |window| with |dilation| sliding by |stride|
/// over |size| elements; `same` padding yields ceil(size / stride).
FailureOr<int64_t> windowOutput(const ShapeChecker &check, int64_t size, int64_t window,
                                int64_t stride, int64_t dilation, Padding padding,
                                StringRef axis) {
  // Windows and dilations are checked positive and at most kMaxWindowExtent
  // (expectPair) before they get here: the product cannot overflow.
  int64_t effective = dilation * (window - 1) + 1;
  if (effective > dlc::rt::kMaxWindowExtent) {
    (void)check.fail(Twine("the window spans ") + Twine(effective) + " along the " + axis +
                     " (dilation * (size - 1) + 1), more than " + Twine(dlc::rt::kMaxWindowExtent));
    return failure();
  }
  if (size == kDyn)
    return kDyn;
  if (padding == Padding::same)
    return (size + stride - 1) / stride;
  if (size < effective) {
    (void)check.fail(Twine("input ") + axis + " " + Twine(size) +
                     " is smaller than the window " + Twine(effective) +
                     " with valid padding");
    return failure();
  }
  return (size - effective) / stride + 1;
}

LogicalResult spatialResult(const ShapeChecker &check, RankedTensorType input,
                            ArrayRef<int64_t> window, ArrayRef<int64_t> strides,
                            ArrayRef<int64_t> dilation, Padding padding, int64_t channels,
                            SmallVectorImpl<Type> &results) {
  SmallVector<int64_t> shape{input.getDimSize(0)};
  const char *axes[] = {"height", "width"};
  for (int i = 0; i < 2; ++i) {
    FailureOr<int64_t> size = windowOutput(check, input.getDimSize(1 + i), window[i],
                                           strides[i], dilation[i], padding, axes[i]);
    if (failed(size))
      return failure();
    shape.push_back(*size);
  }
  shape.push_back(channels);
  return check.result(input.getElementType(), shape, results);
}

int64_t product(ArrayRef<int64_t> dims) {
  int64_t total = 1;
  for (int64_t dim : dims) {
    if (dim == kDyn)
      return kDyn;
    total *= dim;
  }
  return total;
}

LogicalResult sameAsInput(Value input, SmallVectorImpl<Type> &results) {
  results.push_back(input.getType());
  return success();
}

/// Normalizes a possibly negative |axis| of a rank-|rank| tensor.
FailureOr<int64_t> normalizeAxis(const ShapeChecker &check, int64_t axis, int64_t rank) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    (void)check.fail("axis " + Twine(axis) + " is out of range for rank " + Twine(rank));
    return failure();
  }
  return normalized;
}
} // namespace

//===----------------------------------------------------------------------===//
// Convolution, pooling, dense
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "conv2d");
  RankedTensorType input = check.ranked(adaptor.getInput());
  RankedTensorType kernel = check.ranked(adaptor.getKernel());
  if (!input || !kernel)
    return unranked(adaptor.getInput(), results);
  if (failed(check.expectRank(input, 4, "an NHWC input")) ||
      failed(check.expectRank(kernel, 4, "a kernel [kh, kw, in, out]")) ||
      failed(check.expectSameElementType(adaptor.getInput(), adaptor.getKernel(), "kernel")) ||
      failed(check.expectPair(adaptor.getStrides(), "strides")) ||
      failed(check.expectPair(adaptor.getDilation(), "dilation")))
    return failure();
  if (kernel.isDynamicDim(0) || kernel.isDynamicDim(1))
    return check.fail("kernel height and width must be known, got " + check.typeString(kernel));
  if (failed(check.expectPair(kernel.getShape().take_front(2), "kernel size")))
    return failure();
  if (failed(check.expectDim(kernel.getDimSize(2), input.getDimSize(3),
                             "kernel input channels")))
    return failure();
  int64_t filters = kernel.getDimSize(3);
  if (Value bias = adaptor.getBias()) {
    RankedTensorType biasType = check.ranked(bias);
    if (biasType && (failed(check.expectRank(biasType, 1, "a bias")) ||
                     failed(check.expectSameElementType(adaptor.getInput(), bias, "bias")) ||
                     failed(check.expectDim(biasType.getDimSize(0), filters, "bias size"))))
      return failure();
  }
  return spatialResult(check, input, kernel.getShape().take_front(2), adaptor.getStrides(),
                       adaptor.getDilation(), adaptor.getPadding(), filters, results);
}

template <typename PoolOp>
static LogicalResult inferPool2D(typename PoolOp::Adaptor adaptor, std::optional<Location> loc,
                                 StringRef layer, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, layer);
  RankedTensorType input = check.ranked(adaptor.getInput());
  if (!input)
    return unranked(adaptor.getInput(), results);
  if (failed(check.expectRank(input, 4, "an NHWC input")) ||
      failed(check.expectPair(adaptor.getPoolSize(), "pool size")) ||
      failed(check.expectPair(adaptor.getStrides(), "strides")))
    return failure();
  int64_t noDilation[] = {1, 1};
  return spatialResult(check, input, adaptor.getPoolSize(), adaptor.getStrides(), noDilation,
                       adaptor.getPadding(), input.getDimSize(3), results);
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &results) {
  return inferPool2D<MaxPool2DOp>(adaptor, loc, "max_pool2d", results);
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &results) {
  return inferPool2D<AvgPool2DOp>(adaptor, loc, "avg_pool2d", results);
}

static LogicalResult inferGlobalPool(Value inputValue, std::optional<Location> loc,
                                     StringRef layer, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, layer);
  RankedTensorType input = check.ranked(inputValue);
  if (!input)
    return unranked(inputValue, results);
  if (failed(check.expectRank(input, 4, "an NHWC input")))
    return failure();
  return check.result(input.getElementType(), {input.getDimSize(0), input.getDimSize(3)},
                      results);
}

LogicalResult GlobalMaxPool2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                  Adaptor adaptor,
                                                  SmallVectorImpl<Type> &results) {
  return inferGlobalPool(adaptor.getInput(), loc, "global_max_pool2d", results);
}

LogicalResult GlobalAvgPool2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                  Adaptor adaptor,
                                                  SmallVectorImpl<Type> &results) {
  return inferGlobalPool(adaptor.getInput(), loc, "global_avg_pool2d", results);
}

LogicalResult DenseOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "dense");
  RankedTensorType input = check.ranked(adaptor.getInput());
  RankedTensorType kernel = check.ranked(adaptor.getKernel());
  if (!input || !kernel)
    return unranked(adaptor.getInput(), results);
  if (input.getRank() < 2)
    return check.fail("expected an input of rank 2 or more [N, ..., features], got " +
                      check.typeString(input));
  if (failed(check.expectRank(kernel, 2, "a kernel [in, units]")) ||
      failed(check.expectSameElementType(adaptor.getInput(), adaptor.getKernel(), "kernel")) ||
      failed(check.expectDim(kernel.getDimSize(0), input.getShape().back(),
                             "kernel input size")))
    return failure();
  int64_t units = kernel.getDimSize(1);
  if (Value bias = adaptor.getBias()) {
    RankedTensorType biasType = check.ranked(bias);
    if (biasType && (failed(check.expectRank(biasType, 1, "a bias")) ||
                     failed(check.expectSameElementType(adaptor.getInput(), bias, "bias")) ||
                     failed(check.expectDim(biasType.getDimSize(0), units, "bias size"))))
      return failure();
  }
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = units;
  return check.result(input.getElementType(), shape, results);
}

//===----------------------------------------------------------------------===//
// Shape and regularisation layers
//===----------------------------------------------------------------------===//

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "flatten");
  RankedTensorType input = check.ranked(adaptor.getInput());
  if (!input)
    return unranked(adaptor.getInput(), results);
  if (input.getRank() < 1)
    return check.fail("expected a batched input, got " + check.typeString(input));
  return check.result(input.getElementType(),
                      {input.getDimSize(0), product(input.getShape().drop_front())}, results);
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "reshape");
  RankedTensorType input = check.ranked(adaptor.getInput());
  if (!input)
    return unranked(adaptor.getInput(), results);
  if (input.getRank() < 1)
    return check.fail("expected a batched input, got " + check.typeString(input));
  ArrayRef<int64_t> target = adaptor.getShape();
  if (target.empty())
    return check.fail("target shape must not be empty");
  int64_t inferredIndex = -1, known = 1;
  for (auto [index, dim] : llvm::enumerate(target)) {
    if (dim == -1) {
      if (inferredIndex >= 0)
        return check.fail("target shape may contain only one -1");
      inferredIndex = index;
      continue;
    }
    if (dim < 1)
      return check.fail("target shape dimensions must be positive or -1, got " + Twine(dim));
    if (known > kMaxTensorElements / dim)
      return check.fail("target shape is too large");
    known *= dim;
  }
  int64_t elements = product(input.getShape().drop_front());
  SmallVector<int64_t> shape{input.getDimSize(0)};
  shape.append(target.begin(), target.end());
  if (inferredIndex >= 0) {
    if (elements != kDyn && elements % known != 0)
      return check.fail("cannot reshape " + Twine(elements) + " elements into a multiple of " +
                        Twine(known));
    shape[1 + inferredIndex] = elements == kDyn ? kDyn : elements / known;
  } else if (elements != kDyn && elements != known) {
    return check.fail("cannot reshape " + Twine(elements) + " elements per example into " +
                      Twine(known));
  }
  return check.result(input.getElementType(), shape, results);
}

LogicalResult CastOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "cast");
  Type to = adaptor.getTo();
  bool toFloat = to.isF16() || to.isBF16() || to.isF32() || to.isF64();
  if (!toFloat && !to.isInteger(32) && !to.isInteger(64))
    return check.fail("cannot cast to " + check.typeString(to) +
                      "; element types: f16, bf16, f32, f64, i32, i64");
  auto input = cast<ShapedType>(adaptor.getInput().getType());
  if (isa<FloatType>(input.getElementType()) && !toFloat)
    return check.fail("cannot cast float " + check.typeString(input.getElementType()) + " to integer " +
                      check.typeString(to) + " (no rounding mode is defined)");
  if (!input.hasRank()) {
    results.push_back(UnrankedTensorType::get(to));
    return success();
  }
  results.push_back(RankedTensorType::get(input.getShape(), to));
  return success();
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "dropout");
  double rate = adaptor.getRate().convertToDouble();
  if (!(rate >= 0 && rate < 1))
    return check.fail("rate must be in [0, 1), got " + llvm::formatv("{0}", llvm::format("%g", rate)).str());
  return sameAsInput(adaptor.getInput(), results);
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "batch_norm");
  double epsilon = adaptor.getEpsilon().convertToDouble();
  double momentum = adaptor.getMomentum().convertToDouble();
  if (!(epsilon > 0))
    return check.fail("epsilon must be greater than 0, got " + llvm::formatv("{0}", llvm::format("%g", epsilon)).str());
  if (!(momentum >= 0 && momentum <= 1))
    return check.fail("momentum must be in [0, 1], got " + llvm::formatv("{0}", llvm::format("%g", momentum)).str());
  RankedTensorType input = check.ranked(adaptor.getInput());
  if (!input)
    return unranked(adaptor.getInput(), results);
  FailureOr<int64_t> axis = normalizeAxis(check, adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return failure();
  if (*axis == 0)
    return check.fail("cannot normalize along the batch axis");
  int64_t channels = input.getDimSize(*axis);
  std::pair<Value, const char *> statistics[] = {{adaptor.getGamma(), "gamma"},
                                                 {adaptor.getBeta(), "beta"},
                                                 {adaptor.getMovingMean(), "moving_mean"},
                                                 {adaptor.getMovingVariance(), "moving_variance"}};
  for (auto [value, name] : statistics) {
    if (!value)
      continue;
    RankedTensorType type = check.ranked(value);
    if (type && (failed(check.expectRank(type, 1, name)) ||
                 failed(check.expectSameElementType(adaptor.getInput(), value, name)) ||
                 failed(check.expectDim(type.getDimSize(0), channels, Twine(name) + " size"))))
      return failure();
  }
  return sameAsInput(adaptor.getInput(), results);
}

//===----------------------------------------------------------------------===//
// Sequence layers
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "embedding");
  RankedTensorType ids = check.ranked(adaptor.getIds());
  RankedTensorType table = check.ranked(adaptor.getTable());
  if (!ids || !table)
    return unranked(adaptor.getTable(), results);
  if (ids.getRank() < 1)
    return check.fail("expected batched ids, got " + check.typeString(ids));
  if (failed(check.expectRank(table, 2, "a table [input_dim, output_dim]")))
    return failure();
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  return check.result(table.getElementType(), shape, results);
}

LogicalResult LSTMOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "lstm");
  RankedTensorType input = check.ranked(adaptor.getInput());
  RankedTensorType kernel = check.ranked(adaptor.getKernel());
  RankedTensorType recurrent = check.ranked(adaptor.getRecurrentKernel());
  if (!input || !kernel || !recurrent)
    return unranked(adaptor.getInput(), results);
  if (failed(check.expectRank(input, 3, "an input [N, timesteps, features]")) ||
      failed(check.expectRank(kernel, 2, "a kernel [features, 4*units]")) ||
      failed(check.expectRank(recurrent, 2, "a recurrent kernel [units, 4*units]")) ||
      failed(check.expectSameElementType(adaptor.getInput(), adaptor.getKernel(), "kernel")) ||
      failed(check.expectSameElementType(adaptor.getInput(), adaptor.getRecurrentKernel(),
                                         "recurrent kernel")))
    return failure();
  int64_t units = recurrent.getDimSize(0);
  int64_t gates = units == kDyn ? kDyn : 4 * units;
  if (failed(check.expectDim(kernel.getDimSize(0), input.getDimSize(2), "kernel input size")) ||
      failed(check.expectDim(kernel.getDimSize(1), gates, "kernel gate size (4*units)")) ||
      failed(check.expectDim(recurrent.getDimSize(1), gates,
                             "recurrent kernel gate size (4*units)")))
    return failure();
  if (Value bias = adaptor.getBias()) {
    RankedTensorType biasType = check.ranked(bias);
    if (biasType && (failed(check.expectRank(biasType, 1, "a bias [4*units]")) ||
                     failed(check.expectSameElementType(adaptor.getInput(), bias, "bias")) ||
                     failed(check.expectDim(biasType.getDimSize(0), gates, "bias size"))))
      return failure();
  }
  if (adaptor.getReturnSequences())
    return check.result(input.getElementType(),
                        {input.getDimSize(0), input.getDimSize(1), units}, results);
  return check.result(input.getElementType(), {input.getDimSize(0), units}, results);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

#define DL_ELEMENTWISE_SHAPE(OpClass)                                                      \
  LogicalResult OpClass::inferReturnTypes(MLIRContext *, std::optional<Location>,          \
                                          Adaptor adaptor, SmallVectorImpl<Type> &results) { \
    return sameAsInput(adaptor.getInput(), results);                                       \
  }
DL_ELEMENTWISE_SHAPE(ReluOp)
DL_ELEMENTWISE_SHAPE(SigmoidOp)
DL_ELEMENTWISE_SHAPE(TanhOp)
DL_ELEMENTWISE_SHAPE(GeluOp)
DL_ELEMENTWISE_SHAPE(LeakyReluOp)
#undef DL_ELEMENTWISE_SHAPE

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "softmax");
  if (RankedTensorType input = check.ranked(adaptor.getInput()))
    if (failed(normalizeAxis(check, adaptor.getAxis(), input.getRank())))
      return failure();
  return sameAsInput(adaptor.getInput(), results);
}

//===----------------------------------------------------------------------===//
// Merge layers
//===----------------------------------------------------------------------===//

LogicalResult AddOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "add");
  ValueRange inputs = adaptor.getInputs();
  if (inputs.size() < 2)
    return check.fail("needs at least 2 inputs, got " + Twine(inputs.size()));
  SmallVector<int64_t> shape;
  RankedTensorType first;
  for (Value input : inputs) {
    RankedTensorType type = check.ranked(input);
    if (!type)
      return unranked(input, results);
    if (!first) {
      first = type;
      shape.assign(type.getShape().begin(), type.getShape().end());
      continue;
    }
    if (failed(check.expectSameElementType(inputs.front(), input, "an input")))
      return failure();
    if (type.getRank() != first.getRank())
      return check.fail("inputs must have one shape, got " + check.typeString(first) + " and " +
                        check.typeString(type));
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t dim = type.getDimSize(i);
      if (shape[i] != kDyn && dim != kDyn && shape[i] != dim)
        return check.fail("inputs must have one shape, got " + check.typeString(first) +
                          " and " + check.typeString(type));
      if (shape[i] == kDyn)
        shape[i] = dim;
    }
  }
  return check.result(first.getElementType(), shape, results);
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &results) {
  ShapeChecker check(loc, "concat");
  ValueRange inputs = adaptor.getInputs();
  if (inputs.size() < 2)
    return check.fail("needs at least 2 inputs, got " + Twine(inputs.size()));
  RankedTensorType first;
  SmallVector<int64_t> shape;
  int64_t axis = 0;
  for (Value input : inputs) {
    RankedTensorType type = check.ranked(input);
    if (!type)
      return unranked(input, results);
    if (!first) {
      first = type;
      FailureOr<int64_t> normalized = normalizeAxis(check, adaptor.getAxis(), type.getRank());
      if (failed(normalized))
        return failure();
      if (*normalized == 0)
        return check.fail("cannot concatenate along the batch axis");
      axis = *normalized;
      shape.assign(type.getShape().begin(), type.getShape().end());
      continue;
    }
    if (failed(check.expectSameElementType(inputs.front(), input, "an input")))
      return failure();
    if (type.getRank() != first.getRank())
      return check.fail("inputs must have one rank, got " + check.typeString(first) + " and " +
                        check.typeString(type));
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t dim = type.getDimSize(i);
      if (i == axis) {
        shape[i] = (shape[i] == kDyn || dim == kDyn) ? kDyn : shape[i] + dim;
        continue;
      }
      if (shape[i] != kDyn && dim != kDyn && shape[i] != dim)
        return check.fail("inputs differ outside axis " + Twine(axis) + ": " +
                          check.typeString(first) + " and " + check.typeString(type));
      if (shape[i] == kDyn)
        shape[i] = dim;
    }
  }
  return check.result(first.getElementType(), shape, results);
}
