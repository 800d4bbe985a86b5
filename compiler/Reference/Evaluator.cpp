//===- Evaluator.cpp - Runs dl functions in float64 on the CPU -----------===//
#include "compiler/Reference/Evaluator.h"
#include "runtime/loss_scale.h"
#include "compiler/Reference/GradKernels.h"
#include "compiler/Reference/Kernels.h"
#include "compiler/Reference/Optimizers.h"
#include "compiler/Reference/RoundingProbe.h"
#include "compiler/Transforms/PrecisionPolicy.h"
#include "dialects/DL/DLOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace dlc;
using namespace dlc::ref;

namespace {
std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

/// True when |tensor| can stand for a value of |type|.
bool matchesType(const RefTensor &tensor, Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return true;
  if (ranked.getRank() != tensor.rank())
    return false;
  for (int64_t i = 0; i < tensor.rank(); ++i)
    if (!ranked.isDynamicDim(i) && ranked.getDimSize(i) != tensor.shape[i])
      return false;
  return tensor.integer == ranked.getElementType().isSignlessInteger();
}

Pair pair(ArrayRef<int64_t> values) { return {values[0], values[1]}; }

/// |x| rounded to nearest (ties to even, or away from zero) in a binary
/// float format with |mantissaBits| explicit fraction bits and exponents
/// [minExponent, maxExponent] (below the minimum: subnormals); overflow gives
/// infinity. Written with frexp and ldexp, apart from the backends' bit
/// manipulation.
double roundToFormat(double x, int mantissaBits, int minExponent, int maxExponent,
                     bool tiesAway = false) {
  if (!std::isfinite(x) || x == 0)
    return x;
  int exponent;
  std::frexp(x, &exponent); // x = m * 2^exponent, 0.5 <= |m| < 1
  int unitExponent = std::max(exponent - 1, minExponent) - mantissaBits;
  double units = std::ldexp(x, -unitExponent);
  double rounded = std::ldexp(tiesAway ? std::round(units) : std::nearbyint(units), unitExponent);
  if (std::fabs(rounded) >= std::ldexp(1.0, maxExponent + 1))
    return std::copysign(INFINITY, x);
  return rounded;
}



/// Height and width of an NHWC result type (sizes a gradient op's operands
/// do not determine).
Pair spatialSize(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return {type.getDimSize(1), type.getDimSize(2)};
}

OptimizerConfig optimizerConfig(dl::ConfigAttr config) {
  OptimizerConfig result{config.getKind().str()};
  auto number = [&](StringRef name, double &field) {
    if (auto attr = dyn_cast_or_null<FloatAttr>(config.getOptions().get(name)))
      field = attr.getValueAsDouble();
  };
  auto flag = [&](StringRef name, bool &field) {
    if (auto attr = dyn_cast_or_null<BoolAttr>(config.getOptions().get(name)))
      field = attr.getValue();
  };
  number("learning_rate", result.learningRate);
  if (auto schedule = dyn_cast_or_null<dl::ConfigAttr>(config.getOptions().get("learning_rate"))) {
    ScheduleConfig &s = result.schedule;
    s.kind = schedule.getKind().str();
    DictionaryAttr options = schedule.getOptions();
    auto value = [&](StringRef name) -> std::optional<double> {
      Attribute a = options.get(name);
      if (auto f = dyn_cast_or_null<FloatAttr>(a))
        return f.getValueAsDouble();
      if (auto i = dyn_cast_or_null<IntegerAttr>(a))
        return double(i.getInt());
      return std::nullopt;
    };
    s.initialLearningRate = value("initial_learning_rate").value_or(0);
    s.decaySteps = value("decay_steps").value_or(0);
    s.decayRate = value("decay_rate").value_or(0);
    s.alpha = value("alpha").value_or(0);
    s.warmupSteps = value("warmup_steps").value_or(0);
    s.warmupTarget = value("warmup_target");
    if (auto b = dyn_cast_or_null<BoolAttr>(options.get("staircase")))
      s.staircase = b.getValue();
    if (auto boundaries = dyn_cast_or_null<DenseI64ArrayAttr>(options.get("boundaries")))
      s.boundaries.assign(boundaries.asArrayRef().begin(), boundaries.asArrayRef().end());
    if (auto values = dyn_cast_or_null<ArrayAttr>(options.get("values")))
      for (Attribute v : values)
        s.values.push_back(cast<FloatAttr>(v).getValueAsDouble());
    else if (auto single = value("values"))
      s.values.push_back(*single);
  }
  number("momentum", result.momentum);
  number("beta_1", result.beta1);
  number("beta_2", result.beta2);
  number("epsilon", result.epsilon);
  number("weight_decay", result.weightDecay);
  number("rho", result.rho);
  if (auto clip = dyn_cast_or_null<FloatAttr>(config.getOptions().get("clipvalue")))
    result.clipValue = clip.getValueAsDouble();
  if (auto clip = dyn_cast_or_null<FloatAttr>(config.getOptions().get("clipnorm")))
    result.clipNorm = clip.getValueAsDouble();
  if (auto clip = dyn_cast_or_null<FloatAttr>(config.getOptions().get("global_clipnorm")))
    result.globalClipNorm = clip.getValueAsDouble();
  flag("nesterov", result.nesterov);
  flag("amsgrad", result.amsgrad);
  flag("centered", result.centered);
  return result;
}

/// A loss op's weight: one output's share of a model's loss (absent: 1).
double lossWeight(FloatAttr weight) { return weight ? weight.getValueAsDouble() : 1.0; }

LossOptions lossOptions(dl::ConfigAttr config) {
  static const llvm::StringMap<LossKind> kinds = {
      {"categorical_crossentropy", LossKind::CategoricalCrossentropy},
      {"sparse_categorical_crossentropy", LossKind::SparseCategoricalCrossentropy},
      {"binary_crossentropy", LossKind::BinaryCrossentropy},
      {"mse", LossKind::MeanSquaredError}};
  LossOptions options{kinds.lookup(config.getKind().getValue())};
  if (auto fromLogits = dyn_cast_or_null<BoolAttr>(config.getOptions().get("from_logits")))
    options.fromLogits = fromLogits.getValue();
  if (auto smoothing = dyn_cast_or_null<FloatAttr>(config.getOptions().get("label_smoothing")))
    options.labelSmoothing = smoothing.getValueAsDouble();
  return options;
}

class Interpreter {
public:
  Interpreter(const ParamMap &params, const EvalOptions &options, ParamMap *updates)
      : params(params), options(options), updates(updates) {
    if (options.roundingProbe)
      probe.emplace(options.roundingProbe);
  }

  FailureOr<std::vector<RefTensor>> run(func::FuncOp function, ArrayRef<RefTensor> arguments) {
    if (arguments.size() != function.getNumArguments()) {
      function.emitError() << "expected " << function.getNumArguments()
                           << " arguments, got " << arguments.size();
      return failure();
    }
    for (auto [index, argument] : llvm::enumerate(function.getArguments())) {
      if (!matchesType(arguments[index], argument.getType())) {
        function.emitError() << "argument " << index << " has shape "
                             << arguments[index].shapeString()
                             << (arguments[index].integer ? " (integer)" : "")
                             << " but the function expects " << typeText(argument.getType());
        return failure();
      }
      values[argument] = arguments[index];
    }
    for (Operation &op : function.getBody().front()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        std::vector<RefTensor> results;
        for (Value operand : ret.getOperands())
          results.push_back(values.lookup(operand));
        return results;
      }
      if (failed(execute(&op)))
        return failure();
    }
    function.emitError("function has no return");
    return failure();
  }

private:
  const RefTensor &in(Value value) {
    auto rounded = tf32Operands.find(value);
    return rounded != tf32Operands.end() ? rounded->second : values.find(value)->second;
  }

  /// While an op marked dl.tf32 runs, its matrix operands (0 and 1) as it
  /// reads them. A value a float32 backend made may sit on the other side
  /// of a TF32 rounding boundary than the exact one: probes flip it as they
  /// do 16-bit roundings.
  void roundTf32Operands(Operation *op) {
    tf32Operands.clear();
    if (!op->hasAttr(precision::kTf32Attr))
      return;
    for (unsigned i = 0; i < 2 && i < op->getNumOperands(); ++i) {
      Value v = op->getOperand(i);
      if (tf32Operands.count(v) || !cast<ShapedType>(v.getType()).getElementType().isF32())
        continue;
      RefTensor t = values.find(v)->second;
      for (double &x : t.data)
        x = roundToTf32(beforeNarrowRounding(x));
      tf32Operands[v] = std::move(t);
    }
  }
  const RefTensor *optional(Value value) { return value ? &in(value) : nullptr; }

  LogicalResult define(Operation *op, RefTensor result) {
    if (!matchesType(result, op->getResult(0).getType())) {
      op->emitOpError("computed a result of shape ")
          << result.shapeString() << " that does not match " << op->getResult(0).getType();
      return failure();
    }
    stored(result);
    roundToStorage(result, op->getResult(0).getType());
    values[op->getResult(0)] = std::move(result);
    return success();
  }

  /// A 16-bit value holds what its type can: the program rounds it where it
  /// is made (mixed precision, dlc-select-precision), and so does the
  /// reference. f32 values stay exact: that rounding is the backends' noise.
  static void roundToStorage(RefTensor &result, Type type) {
    Type element = cast<ShapedType>(type).getElementType();
    if (result.integer || !(element.isF16() || element.isBF16()))
      return;
    for (double &v : result.data)
      v = roundTo(element, beforeNarrowRounding(v));
  }

  LogicalResult defineAll(Operation *op, std::vector<RefTensor> results) {
    for (auto [value, result] : llvm::zip(op->getResults(), results)) {
      if (!matchesType(result, value.getType()))
        return op->emitOpError("computed a result of shape ")
               << result.shapeString() << " that does not match " << value.getType();
      stored(result);
      roundToStorage(result, value.getType());
      values[value] = std::move(result);
    }
    return success();
  }

  LogicalResult execute(Operation *op) {
    roundTf32Operands(op);
    LogicalResult done = executeOp(op);
    tf32Operands.clear();
    return done;
  }

  LogicalResult executeOp(Operation *op) {
    using namespace dl;
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](WeightOp weight) -> LogicalResult {
          auto it = params.find(weight.getParam());
          if (it == params.end())
            return weight.emitError() << "no value for parameter '" << weight.getParam() << "'";
          return define(op, it->second);
        })
        .Case([&](Conv2DOp conv) {
          return define(op, conv2d(in(conv.getInput()), in(conv.getKernel()),
                                   optional(conv.getBias()), pair(conv.getStrides()),
                                   conv.getPadding() == Padding::same, pair(conv.getDilation())));
        })
        .Case([&](MaxPool2DOp pool) {
          return define(op, maxPool2d(in(pool.getInput()), pair(pool.getPoolSize()),
                                      pair(pool.getStrides()), pool.getPadding() == Padding::same));
        })
        .Case([&](AvgPool2DOp pool) {
          return define(op, avgPool2d(in(pool.getInput()), pair(pool.getPoolSize()),
                                      pair(pool.getStrides()), pool.getPadding() == Padding::same));
        })
        .Case([&](GlobalMaxPool2DOp pool) { return define(op, globalMaxPool2d(in(pool.getInput()))); })
        .Case([&](GlobalAvgPool2DOp pool) { return define(op, globalAvgPool2d(in(pool.getInput()))); })
        .Case([&](DenseOp d) {
          return define(op, dense(in(d.getInput()), in(d.getKernel()), optional(d.getBias())));
        })
        .Case([&](FlattenOp f) {
          const RefTensor &x = in(f.getInput());
          std::vector<int64_t> rest(x.shape.begin() + 1, x.shape.end());
          return define(op, reshape(x, {x.dim(0), numElements(rest)}));
        })
        .Case([&](ReshapeOp r) {
          const RefTensor &x = in(r.getInput());
          std::vector<int64_t> shape{x.dim(0)};
          std::vector<int64_t> rest(x.shape.begin() + 1, x.shape.end());
          int64_t known = 1, inferred = -1;
          for (int64_t dim : r.getShape()) {
            if (dim == -1)
              inferred = int64_t(shape.size());
            else
              known *= dim;
            shape.push_back(dim);
          }
          if (inferred > 0)
            shape[inferred] = known ? numElements(rest) / known : 0;
          return define(op, reshape(x, shape));
        })
        .Case([&](CastOp c) {
          RefTensor y = in(c.getInput());
          y.integer = c.getTo().isSignlessInteger();
          if (!y.integer)
            for (double &v : y.data)
              v = roundTo(c.getTo(), v);
          return define(op, std::move(y));
        })
        .Case([&](AugmentOp a) {
          AugmentSpec spec;
          spec.kind = a.getConfig().getKind().str();
          spec.position = int64_t(a.getPosition());
          for (NamedAttribute option : a.getConfig().getOptions()) {
            std::string name = option.getName().str();
            Attribute v = option.getValue();
            if (auto s = dyn_cast<StringAttr>(v))
              spec.words[name] = s.str();
            else if (auto f = dyn_cast<FloatAttr>(v))
              spec.numbers[name] = {f.getValueAsDouble()};
            else if (auto i = dyn_cast<IntegerAttr>(v))
              spec.numbers[name] = {double(i.getInt())};
            else if (auto list = dyn_cast<ArrayAttr>(v))
              for (Attribute e : list)
                spec.numbers[name].push_back(cast<FloatAttr>(e).getValueAsDouble());
          }
          return define(op, augment(in(a.getInput()), in(a.getExampleIds()), in(a.getAugmentSeed()), spec));
        })
        .Case([&](DropoutOp d) {
          const RefTensor &x = in(d.getInput());
          if (!d.getTraining())
            return define(op, x);
          return define(op, dropout(x, d.getRate().convertToDouble(), d.getSeed().value_or(0),
                                    options.step));
        })
        .Case([&](BatchNormOp bn) {
          double epsilon = bn.getEpsilon().convertToDouble();
          int64_t axis = int64_t(bn.getAxis());
          if (bn.getTraining())
            return define(op, batchNormTraining(in(bn.getInput()), optional(bn.getGamma()),
                                                optional(bn.getBeta()), axis, epsilon, nullptr,
                                                nullptr));
          return define(op, batchNormInference(in(bn.getInput()), optional(bn.getGamma()),
                                               optional(bn.getBeta()), in(bn.getMovingMean()),
                                               in(bn.getMovingVariance()), axis, epsilon));
        })
        .Case([&](EmbeddingOp e) -> LogicalResult {
          std::string error;
          RefTensor y = embedding(in(e.getIds()), in(e.getTable()), &error);
          if (!error.empty())
            return e.emitError() << error;
          return define(op, std::move(y));
        })
        .Case([&](LSTMOp l) {
          return define(op, lstm(in(l.getInput()), in(l.getKernel()), in(l.getRecurrentKernel()),
                                 optional(l.getBias()), l.getReturnSequences()));
        })
        .Case([&](ReluOp r) { return define(op, unary(in(r.getInput()), Unary::Relu)); })
        .Case([&](SigmoidOp s) { return define(op, unary(in(s.getInput()), Unary::Sigmoid)); })
        .Case([&](TanhOp t) { return define(op, unary(in(t.getInput()), Unary::Tanh)); })
        .Case([&](GeluOp g) {
          return define(op, unary(in(g.getInput()), g.getApproximate() ? Unary::GeluTanh : Unary::Gelu));
        })
        .Case([&](LeakyReluOp l) {
          return define(op, unary(in(l.getInput()), Unary::LeakyRelu,
                                  l.getNegativeSlope().convertToDouble()));
        })
        .Case([&](SoftmaxOp s) { return define(op, softmax(in(s.getInput()), int64_t(s.getAxis()))); })
        .Case([&](AddOp a) {
          std::vector<const RefTensor *> inputs;
          for (Value v : a.getInputs())
            inputs.push_back(&in(v));
          return define(op, add(inputs));
        })
        .Case([&](ConcatOp c) {
          std::vector<const RefTensor *> inputs;
          for (Value v : c.getInputs())
            inputs.push_back(&in(v));
          return define(op, concat(inputs, int64_t(c.getAxis())));
        })
        .Case([&](LossOp l) -> LogicalResult {
          LossOptions o = lossOptions(l.getConfig());
          if (std::string e = classIdError(in(l.getPrediction()), in(l.getLabels()), o); !e.empty())
            return l.emitError() << "labels: " << e;
          RefTensor value(std::vector<int64_t>{});
          value[0] = loss(in(l.getPrediction()), in(l.getLabels()), o) * lossWeight(l.getWeightAttr());
          return define(op, std::move(value));
        })
        .Case([&](ExampleLossOp l) -> LogicalResult {
          LossOptions o = lossOptions(l.getConfig());
          if (std::string e = classIdError(in(l.getPrediction()), in(l.getLabels()), o); !e.empty())
            return l.emitError() << "labels: " << e;
          RefTensor losses = exampleLosses(in(l.getPrediction()), in(l.getLabels()), o);
          const double weight = lossWeight(l.getWeightAttr());
          for (int64_t i = 0; i < losses.size(); ++i)
            losses[i] *= weight;
          return define(op, std::move(losses));
        })
        .Case([&](MetricOp m) {
          return define(op, metricScores(in(m.getPrediction()), in(m.getLabels()), m.getRule().str(),
                                         int64_t(m.getK()), m.getThreshold().convertToDouble()));
        })
        .Case([&](LossGradOp l) -> LogicalResult {
          LossOptions o = lossOptions(l.getConfig());
          if (std::string e = classIdError(in(l.getPrediction()), in(l.getLabels()), o); !e.empty())
            return l.emitError() << "labels: " << e;
          RefTensor grad = lossGrad(in(l.getPrediction()), in(l.getLabels()), o);
          double factor = lossWeight(l.getWeightAttr());
          if (Value state = l.getLossScale())
            factor *= in(state)[rt::loss_scale::kScale];
          for (int64_t i = 0; i < grad.size(); ++i)
            grad[i] *= factor;
          return define(op, std::move(grad));
        })
        .Case([&](LossScaleUpdateOp u) {
          bool finite = true;
          for (Value g : u.getGrads()) {
            const RefTensor &t = in(g);
            for (int64_t i = 0; i < t.size() && finite; ++i)
              finite = std::isfinite(t[i]);
          }
          // The state is f32 and its rule exact in f32 (doublings, halvings,
          // counts): the backends' own function is the reference's.
          const RefTensor &state = in(u.getState());
          float old[rt::loss_scale::kFields], next[rt::loss_scale::kFields];
          for (int i = 0; i < rt::loss_scale::kFields; ++i)
            old[i] = float(state[i]);
          rt::loss_scale::nextLossScaleState(old, finite, int64_t(u.getGrowthSteps()), next);
          RefTensor result = state;
          for (int i = 0; i < rt::loss_scale::kFields; ++i)
            result[i] = next[i];
          // Exact on every backend: no rounding probe moves it.
          values[u.getNewState()] = std::move(result);
          return success();
        })
        .Case([&](GradientNormOp n) {
          double sum = 0;
          for (Value g : n.getGrads())
            for (double x : in(g).data)
              sum += x * x;
          return define(op, RefTensor({1}, std::sqrt(sum)));
        })
        .Case([&](ZerosOp z) {
          auto type = cast<RankedTensorType>(z.getType());
          return define(op, RefTensor(std::vector<int64_t>(type.getShape().begin(),
                                                           type.getShape().end())));
        })
        .Case([&](Conv2DGradInputOp g) {
          return define(op, conv2dGradInput(in(g.getDy()), in(g.getKernel()), spatialSize(g.getDx()),
                                            pair(g.getStrides()), g.getPadding() == Padding::same,
                                            pair(g.getDilation())));
        })
        .Case([&](Conv2DGradKernelOp g) {
          auto kernel = cast<RankedTensorType>(g.getDkernel().getType());
          return define(op, conv2dGradKernel(in(g.getInput()), in(g.getDy()),
                                             {kernel.getDimSize(0), kernel.getDimSize(1)},
                                             pair(g.getStrides()), g.getPadding() == Padding::same,
                                             pair(g.getDilation())));
        })
        .Case([&](BiasGradOp g) { return define(op, biasGrad(in(g.getDy()))); })
        .Case([&](DenseGradInputOp g) {
          return define(op, denseGradInput(in(g.getDy()), in(g.getKernel())));
        })
        .Case([&](DenseGradKernelOp g) {
          return define(op, denseGradKernel(in(g.getInput()), in(g.getDy())));
        })
        .Case([&](MaxPool2DGradOp g) {
          return define(op, maxPool2dGrad(in(g.getInput()), in(g.getDy()), pair(g.getPoolSize()),
                                          pair(g.getStrides()), g.getPadding() == Padding::same));
        })
        .Case([&](AvgPool2DGradOp g) {
          return define(op, avgPool2dGrad(in(g.getDy()), spatialSize(g.getDx()),
                                          pair(g.getPoolSize()), pair(g.getStrides()),
                                          g.getPadding() == Padding::same));
        })
        .Case([&](GlobalMaxPool2DGradOp g) {
          return define(op, globalMaxPool2dGrad(in(g.getInput()), in(g.getDy())));
        })
        .Case([&](GlobalAvgPool2DGradOp g) {
          return define(op, globalAvgPool2dGrad(in(g.getDy()), spatialSize(g.getDx())));
        })
        .Case([&](ReluGradOp g) {
          return define(op, unaryGrad(in(g.getInput()), in(g.getDy()), Unary::Relu));
        })
        .Case([&](SigmoidGradOp g) {
          return define(op, unaryGrad(in(g.getOutput()), in(g.getDy()), Unary::Sigmoid));
        })
        .Case([&](TanhGradOp g) {
          return define(op, unaryGrad(in(g.getOutput()), in(g.getDy()), Unary::Tanh));
        })
        .Case([&](GeluGradOp g) {
          return define(op, unaryGrad(in(g.getInput()), in(g.getDy()),
                                      g.getApproximate() ? Unary::GeluTanh : Unary::Gelu));
        })
        .Case([&](LeakyReluGradOp g) {
          return define(op, unaryGrad(in(g.getInput()), in(g.getDy()), Unary::LeakyRelu,
                                      g.getNegativeSlope().convertToDouble()));
        })
        .Case([&](SoftmaxGradOp g) {
          return define(op, softmaxGrad(in(g.getOutput()), in(g.getDy()), int64_t(g.getAxis())));
        })
        .Case([&](BatchNormGradOp g) {
          BatchNormGrads grads = batchNormGrad(in(g.getInput()), optional(g.getGamma()),
                                               in(g.getDy()), int64_t(g.getAxis()),
                                               g.getEpsilon().convertToDouble());
          return defineAll(op, {std::move(grads.dx), std::move(grads.dgamma),
                                std::move(grads.dbeta)});
        })
        .Case([&](BatchNormInferenceGradOp g) {
          return define(op, batchNormInferenceGrad(in(g.getDy()), optional(g.getGamma()),
                                                   in(g.getMovingVariance()), int64_t(g.getAxis()),
                                                   g.getEpsilon().convertToDouble()));
        })
        .Case([&](EmbeddingGradOp g) {
          auto table = cast<RankedTensorType>(g.getDtable().getType());
          return define(op, embeddingGrad(in(g.getIds()), in(g.getDy()), table.getDimSize(0)));
        })
        .Case([&](LSTMGradOp g) {
          LstmGrads grads = lstmGrad(in(g.getInput()), in(g.getKernel()),
                                     in(g.getRecurrentKernel()), optional(g.getBias()),
                                     in(g.getDy()), g.getReturnSequences());
          return defineAll(op, {std::move(grads.dx), std::move(grads.dkernel),
                                std::move(grads.drecurrent), std::move(grads.dbias)});
        })
        .Case([&](SliceOp s) {
          auto type = cast<RankedTensorType>(s.getOutput().getType());
          int64_t axis = int64_t(s.getAxis());
          return define(op, slice(in(s.getInput()), axis, int64_t(s.getStart()),
                                  type.getDimSize(axis < 0 ? axis + type.getRank() : axis)));
        })
        .Case([&](BatchNormStatisticsUpdateOp u) {
          RefTensor mean, variance;
          batchNormTraining(in(u.getInput()), nullptr, nullptr, int64_t(u.getAxis()), 0.0, &mean,
                            &variance);
          double momentum = u.getMomentum().convertToDouble();
          RefTensor newMean = in(u.getMovingMean()), newVariance = in(u.getMovingVariance());
          for (int64_t c = 0; c < newMean.size(); ++c) {
            newMean[c] = newMean[c] * momentum + mean[c] * (1 - momentum);
            newVariance[c] = newVariance[c] * momentum + variance[c] * (1 - momentum);
          }
          return defineAll(op, {std::move(newMean), std::move(newVariance)});
        })
        .Case([&](AssignOp a) -> LogicalResult {
          if (!updates)
            return a.emitOpError("assigns a parameter, but the caller takes no updates");
          (*updates)[a.getParam()] = in(a.getValue());
          return success();
        })
        .Case([&](OptimizerUpdateOp u) {
          RefTensor param = in(u.getParam());
          std::vector<RefTensor> slots;
          for (Value slot : u.getSlots())
            slots.push_back(in(slot));
          int64_t step = int64_t(in(u.getStep())[0]);
          RefTensor grad = in(u.getGrad());
          bool apply = true;
          std::optional<double> norm;
          if (Value n = u.getGradNorm())
            norm = in(n)[0];
          if (Value scaling = u.getLossScale()) {
            const RefTensor &state = in(scaling);
            apply = state[rt::loss_scale::kStepFinite] != 0;
            step -= int64_t(state[rt::loss_scale::kSkippedSteps]);
            for (int64_t i = 0; i < grad.size(); ++i)
              grad[i] /= state[rt::loss_scale::kStepScale];
            if (norm)
              *norm /= state[rt::loss_scale::kStepScale];
          }
          if (apply)
            applyOptimizer(optimizerConfig(u.getConfig()), step, param, grad, slots, norm);
          slots.insert(slots.begin(), std::move(param));
          return defineAll(op, std::move(slots));
        })
        .Default([&](Operation *other) {
          return other->emitOpError("is not supported by the reference evaluator");
        });
  }

  const ParamMap &params;
  const EvalOptions &options;
  ParamMap *updates;
  llvm::DenseMap<Value, RefTensor> values;
  llvm::DenseMap<Value, RefTensor> tf32Operands; // roundTf32Operands
  std::optional<RoundingProbe> probe;
};
} // namespace

FailureOr<std::vector<RefTensor>> dlc::ref::evaluate(func::FuncOp function,
                                                     ArrayRef<RefTensor> arguments,
                                                     const ParamMap &params,
                                                     const EvalOptions &options,
                                                     ParamMap *updates) {
  return Interpreter(params, options, updates).run(function, arguments);
}

double dlc::ref::roundToTf32(double x) {
  return roundToFormat(x, 10, -126, 127, /*tiesAway=*/true);
}

double dlc::ref::roundTo(Type to, double x) {
  if (to.isF16())
    return roundToFormat(x, 10, -14, 15);
  if (to.isBF16())
    return roundToFormat(x, 7, -126, 127);
  if (to.isF32())
    return roundToFormat(x, 23, -126, 127);
  return x;
}
