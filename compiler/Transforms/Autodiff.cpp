//===- Autodiff.cpp - Reverse-mode differentiation of the forward pass ---===//
//
// @forward + the training setup's losses -> @grad(inputs..., labels...)
// returning the loss and one gradient per trainable parameter. A model with
// several outputs takes labels for each and minimizes the sum of their
// weighted losses (Keras' loss_weights).
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"
#include "dialects/DL/DLCatalog.h"
#include "runtime/settings.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"

namespace dlc {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc::dl;

namespace {
constexpr const char *kGradFunction = "grad";

bool isTrainable(WeightOp weight, SymbolTable &symbols) {
  auto param = symbols.lookup<ParamOp>(weight.getParam());
  return param && param.isTrainable();
}

/// A batch_norm trains (batch statistics) unless its layer is frozen, as in
/// Keras, where a frozen BatchNormalization runs in inference mode.
bool batchNormTrains(BatchNormOp bn, SymbolTable &symbols) {
  for (Value scale : {bn.getGamma(), bn.getBeta()})
    if (scale)
      if (auto weight = scale.getDefiningOp<WeightOp>())
        return isTrainable(weight, symbols);
  return true;
}

/// The labels a loss expects for |prediction|: class ids for the sparse loss.
Type labelsType(ConfigAttr loss, Type prediction) {
  auto type = cast<RankedTensorType>(prediction);
  if (loss.getKind() != "sparse_categorical_crossentropy")
    return type;
  return RankedTensorType::get(type.getShape().drop_back(),
                               IntegerType::get(type.getContext(), 32));
}

/// softmax -> cross-entropy on probabilities == cross-entropy on the logits
/// (and likewise sigmoid -> binary cross-entropy): compute the stable form.
std::pair<Value, ConfigAttr> useLogits(Value prediction, ConfigAttr loss) {
  auto fromLogits = dyn_cast_or_null<BoolAttr>(loss.getOptions().get("from_logits"));
  if (!fromLogits || fromLogits.getValue())
    return {prediction, loss};
  StringRef kind = loss.getKind().getValue();
  Value logits;
  if (auto softmax = prediction.getDefiningOp<SoftmaxOp>()) {
    auto type = cast<RankedTensorType>(softmax.getInput().getType());
    int64_t axis = int64_t(softmax.getAxis());
    if ((kind == "categorical_crossentropy" || kind == "sparse_categorical_crossentropy") &&
        (axis == -1 || axis == type.getRank() - 1))
      logits = softmax.getInput();
  } else if (auto sigmoid = prediction.getDefiningOp<SigmoidOp>()) {
    if (kind == "binary_crossentropy")
      logits = sigmoid.getInput();
  }
  if (!logits)
    return {prediction, loss};
  NamedAttrList options(loss.getOptions());
  options.set("from_logits", BoolAttr::get(loss.getContext(), true));
  return {logits, ConfigAttr::get(loss.getContext(), loss.getKind(),
                                  options.getDictionary(loss.getContext()))};
}

/// Erases ops whose results nobody uses and that have no effects, until none is left.
void eraseDeadOps(func::FuncOp function) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> ops;
    for (Operation &op : function.getBody().front())
      ops.push_back(&op);
    for (Operation *op : llvm::reverse(ops))
      if (op->use_empty() && !op->hasTrait<OpTrait::IsTerminator>() && isMemoryEffectFree(op)) {
        op->erase();
        changed = true;
      }
  }
}

/// The name of the program input that holds the targets of @forward's
/// result |output|: `labels`, or `<output>/labels` for a model with several.
StringAttr labelsName(func::FuncOp forward, unsigned output) {
  MLIRContext *context = forward.getContext();
  if (forward.getNumResults() == 1)
    return StringAttr::get(context, "labels");
  auto name = forward.getResultAttrOfType<StringAttr>(output, "dl.name");
  return StringAttr::get(context, (name ? name.str() : "output" + std::to_string(output)) + "/labels");
}

/// What a program logs of output |output|: |quantity| itself for a model
/// with one output, else prefixed by the output's name as Keras does
/// (`dept_accuracy`, `price_loss`).
std::string loggedName(func::FuncOp forward, unsigned output, StringRef quantity) {
  if (forward.getNumResults() == 1)
    return quantity.str();
  auto name = forward.getResultAttrOfType<StringAttr>(output, "dl.name");
  return (name ? name.str() : "output" + std::to_string(output)) + "_" + quantity.str();
}

/// How a program scores the metrics of one output on the device: each
/// metric decoded, and whether they score binary outputs (Keras resolves
/// `accuracy` by the loss: binary for binary_crossentropy).
struct MetricPlan {
  SmallVector<dlc::rt::MetricSettings> metrics;
  bool binary = false;
};

/// The plan for the metrics of output |output| of type |prediction|, or none
/// when it has no class axis after the examples ([N, classes] or [N,
/// positions..., classes]) or a setting does not decode (the setup's
/// verifier says why).
std::optional<MetricPlan> planMetrics(TrainSetupOp setup, unsigned output, Type prediction) {
  auto type = dyn_cast<RankedTensorType>(prediction);
  dlc::rt::LossSettings loss;
  if (!type || type.getRank() < 2 ||
      !dlc::rt::decodeLoss(settingOf(setup.lossOf(output)), &loss).ok())
    return std::nullopt;
  MetricPlan plan;
  plan.binary = loss.kind == dlc::rt::LossKind::kBinaryCrossentropy;
  for (ConfigAttr a : setup.metricsOf(output)) {
    dlc::rt::MetricSettings m;
    if (!dlc::rt::decodeMetric(settingOf(a), &m).ok())
      return std::nullopt;
    plan.metrics.push_back(m);
  }
  return plan;
}

/// The plans of every output of |forward|, or none when one has none.
std::optional<SmallVector<MetricPlan>> planAllMetrics(TrainSetupOp setup, func::FuncOp forward) {
  SmallVector<MetricPlan> plans;
  for (unsigned o = 0; o < forward.getNumResults(); ++o) {
    std::optional<MetricPlan> plan = planMetrics(setup, o, forward.getResultTypes()[o]);
    if (!plan)
      return std::nullopt;
    plans.push_back(*plan);
  }
  return plans;
}

/// Each example's score of every metric of |plan| (|threshold|: where a
/// binary output counts as 1, 0.5 on probabilities and 0 on logits).
SmallVector<Value> scoreMetrics(OpBuilder &b, Location loc, const MetricPlan &plan, Value prediction,
                                Value labels, double threshold) {
  auto type = cast<RankedTensorType>(prediction.getType());
  auto perExample = RankedTensorType::get({type.getDimSize(0)}, b.getF32Type());
  SmallVector<Value> scores;
  for (const dlc::rt::MetricSettings &m : plan.metrics)
    scores.push_back(b.create<MetricOp>(loc, perExample, prediction, labels,
                                        b.getStringAttr(plan.binary ? "binary" : "top_k"),
                                        b.getI64IntegerAttr(m.k), b.getF64FloatAttr(threshold)));
  return scores;
}

/// The weight attribute of output |output|'s loss ops: none for 1.
FloatAttr lossWeightAttr(OpBuilder &b, TrainSetupOp setup, unsigned output) {
  double weight = setup.lossWeightOf(output);
  return weight == 1.0 ? FloatAttr() : b.getF64FloatAttr(weight);
}

/// The inputs of a program that takes a batch: @forward's inputs, then the
/// labels of each of its outputs.
SmallVector<Type> batchTypes(func::FuncOp forward, TrainSetupOp setup) {
  SmallVector<Type> inputs(forward.getArgumentTypes());
  for (unsigned o = 0; o < forward.getNumResults(); ++o)
    inputs.push_back(labelsType(setup.lossOf(o), forward.getResultTypes()[o]));
  return inputs;
}

/// Fills |function| (taking batchTypes()) with a copy of @forward's body,
/// each copied op passed to |adjust|; returns the copies of the model's
/// outputs. The builder is left at the body's end.
SmallVector<Value> cloneForward(OpBuilder &b, func::FuncOp forward, func::FuncOp function,
                                function_ref<void(Operation *)> adjust) {
  Block *body = function.addEntryBlock();
  IRMapping mapping;
  for (auto [index, argument] : llvm::enumerate(forward.getArguments())) {
    mapping.map(argument, body->getArgument(index));
    if (auto name = forward.getArgAttr(index, "dl.name"))
      function.setArgAttr(index, "dl.name", name);
  }
  for (unsigned o = 0; o < forward.getNumResults(); ++o)
    function.setArgAttr(forward.getNumArguments() + o, "dl.name", labelsName(forward, o));
  b.setInsertionPointToEnd(body);
  for (Operation &op : forward.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      SmallVector<Value> outputs;
      for (Value v : ret.getOperands())
        outputs.push_back(mapping.lookup(v));
      return outputs;
    }
    adjust(b.clone(op, mapping));
  }
  return {};
}

/// The sum of |values| (one value as it is).
Value sumOf(OpBuilder &b, Location loc, ArrayRef<Value> values) {
  if (values.size() == 1)
    return values.front();
  return b.create<AddOp>(loc, values.front().getType(), values);
}

struct AutodiffPass : dlc::impl::AutodiffPassBase<AutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    auto setups = module.getOps<TrainSetupOp>();
    if (!forward || setups.empty()) {
      module.emitError("autodiff needs a @forward function and a training setup (the .dl "
                       "file's train section names the loss)");
      return signalPassFailure();
    }
    if (forward.getNumResults() == 0) {
      forward.emitError("training needs a model with an output");
      return signalPassFailure();
    }
    if (module.lookupSymbol(kGradFunction)) {
      module.emitError("the module already has a @grad function");
      return signalPassFailure();
    }
    TrainSetupOp setup = *setups.begin();
    for (unsigned o = 0; o < forward.getNumResults(); ++o)
      if (!setup.lossOf(o)) {
        setup.emitError("the training setup has no loss for output ") << o;
        return signalPassFailure();
      }
    if (failed(buildGrad(module, forward, setup)))
      return signalPassFailure();
    buildTrainStep(module, forward, setup);
    buildEvaluate(module, forward, setup);
  }

  /// @evaluate(inputs..., labels...) -> (loss, output losses..., metric
  /// scores...): each example's loss (the sum of its outputs' weighted
  /// losses), each output's when there are several, and each metric's score
  /// of each example, so that validation runs on the device that trains and
  /// the host only sums the batch's real examples. Built for predictions with
  /// a class axis ([N, classes] or [N, positions..., classes]); the trainer
  /// needs it.
  void buildEvaluate(ModuleOp module, func::FuncOp forward, TrainSetupOp setup) {
    std::optional<SmallVector<MetricPlan>> plans = planAllMetrics(setup, forward);
    if (!plans)
      return;
    MLIRContext *context = module.getContext();
    OpBuilder b(context);
    b.setInsertionPointAfter(module.lookupSymbol<func::FuncOp>("train_step"));
    Location loc = forward.getLoc();
    const unsigned outputs = forward.getNumResults();
    auto examples = cast<RankedTensorType>(forward.getResultTypes().front()).getDimSize(0);
    auto perExample = RankedTensorType::get({examples}, b.getF32Type());
    auto evaluate = b.create<func::FuncOp>(loc, "evaluate",
                                           b.getFunctionType(batchTypes(forward, setup), {}));
    // The forward pass as it is: in inference mode.
    SmallVector<Value> predictions = cloneForward(b, forward, evaluate, [](Operation *) {});
    SmallVector<Value> losses, scores;
    SmallVector<std::string> names{"loss"};
    for (unsigned o = 0; o < outputs; ++o)
      losses.push_back(b.create<ExampleLossOp>(setup.getLoc(), perExample, predictions[o],
                                               evaluate.getArgument(forward.getNumArguments() + o),
                                               setup.lossOf(o), lossWeightAttr(b, setup, o)));
    SmallVector<Value> values{sumOf(b, loc, losses)};
    if (outputs > 1)
      for (unsigned o = 0; o < outputs; ++o) {
        values.push_back(losses[o]);
        names.push_back(loggedName(forward, o, "loss"));
      }
    for (unsigned o = 0; o < outputs; ++o) {
      // Binary outputs count as 1 above 0.5, as on the model's output.
      values.append(scoreMetrics(b, loc, (*plans)[o], predictions[o],
                                 evaluate.getArgument(forward.getNumArguments() + o), 0.5));
      for (const dlc::rt::MetricSettings &m : (*plans)[o].metrics)
        names.push_back(loggedName(forward, o, m.name));
    }
    b.create<func::ReturnOp>(loc, values);
    evaluate.setFunctionType(b.getFunctionType(evaluate.getArgumentTypes(), ValueRange(values).getTypes()));
    for (auto [index, name] : llvm::enumerate(names))
      evaluate.setResultAttr(index, "dl.name", b.getStringAttr(name));
  }

  /// @train_step(inputs..., labels..., step) -> (loss, output losses...,
  /// metric scores...): @grad's computation, each output's loss when there
  /// are several, and each metric's score of each example, then one
  /// optimizer_update per trainable parameter, whose results are assigned
  /// back to the parameter and its slots (module-level dl.param ops marked
  /// `slot of`, created here, zero-initialised).
  void buildTrainStep(ModuleOp module, func::FuncOp forward, TrainSetupOp setup) {
    auto grad = module.lookupSymbol<func::FuncOp>(kGradFunction);
    MLIRContext *context = module.getContext();
    OpBuilder b(context);
    b.setInsertionPointAfter(grad);
    SmallVector<Type> inputs(grad.getArgumentTypes());
    auto stepType = RankedTensorType::get({}, IntegerType::get(context, 64));
    inputs.push_back(stepType);
    // Training metrics score the predictions the losses took (no second
    // forward pass): @grad's loss ops, one per output in order.
    SmallVector<LossOp> gradLosses(grad.getBody().front().getOps<LossOp>());
    std::optional<SmallVector<MetricPlan>> plans = planAllMetrics(setup, forward);
    auto step = b.create<func::FuncOp>(grad.getLoc(), "train_step", b.getFunctionType(inputs, {}));
    for (unsigned i = 0; i < grad.getNumArguments(); ++i)
      if (auto name = grad.getArgAttr(i, "dl.name"))
        step.setArgAttr(i, "dl.name", name);
    step.setArgAttr(grad.getNumArguments(), "dl.name", b.getStringAttr("step"));
    Block *body = step.addEntryBlock();
    IRMapping mapping;
    for (auto [from, to] : llvm::zip(grad.getArguments(), body->getArguments()))
      mapping.map(from, to);
    b.setInsertionPointToEnd(body);
    func::ReturnOp gradReturn;
    for (Operation &op : grad.getBody().front()) {
      if ((gradReturn = dyn_cast<func::ReturnOp>(op)))
        break;
      b.clone(op, mapping);
    }

    ConfigAttr optimizer = setup.getOptimizer();
    std::vector<std::string> slotNames = optimizerSlots(optimizer);
    OpBuilder moduleBuilder(context);
    moduleBuilder.setInsertionPoint(grad);
    Value stepValue = body->getArguments().back();
    // Clipping by norm (Keras' clipnorm, global_clipnorm) needs the norm of
    // each gradient, or of all of them, before any update.
    dlc::rt::OptimizerSettings settings;
    (void)dlc::rt::decodeOptimizer(settingOf(optimizer), &settings); // verified with the setup
    auto normType = RankedTensorType::get({1}, b.getF32Type());
    Value globalNorm;
    if (settings.globalClipNorm > 0 && grad.getNumResults() > 1) {
      SmallVector<Value> gradients;
      for (unsigned i = 1; i < grad.getNumResults(); ++i)
        gradients.push_back(mapping.lookup(gradReturn.getOperand(i)));
      globalNorm = b.create<GradientNormOp>(gradReturn.getLoc(), normType, gradients);
    }
    for (unsigned i = 1; i < grad.getNumResults(); ++i) {
      StringRef name = grad.getResultAttrOfType<StringAttr>(i, "dl.name").getValue();
      auto param = module.lookupSymbol<ParamOp>(name);
      Location loc = param.getLoc();
      SmallVector<Value> slots;
      SmallVector<FlatSymbolRefAttr> slotSymbols;
      for (const std::string &slot : slotNames) {
        std::string slotName = (name + "/" + slot).str();
        if (!module.lookupSymbol(slotName))
          moduleBuilder.create<ParamOp>(loc, slotName, param.getType(), Initializer::zeros,
                                        /*frozen=*/true, StringAttr(), b.getStringAttr(name),
                                        DenseElementsAttr(), StringAttr(), StringAttr(),
                                        DenseI64ArrayAttr());
        slotSymbols.push_back(FlatSymbolRefAttr::get(context, slotName));
        slots.push_back(b.create<WeightOp>(loc, param.getType(), slotSymbols.back()));
      }
      Value current = b.create<WeightOp>(loc, param.getType(), FlatSymbolRefAttr::get(context, name));
      Value gradient = mapping.lookup(gradReturn.getOperand(i));
      SmallVector<Type> slotTypes(slots.size(), param.getType());
      Value norm = globalNorm;
      if (settings.clipNorm > 0)
        norm = b.create<GradientNormOp>(loc, normType, ValueRange{gradient});
      auto update = b.create<OptimizerUpdateOp>(loc, param.getType(), slotTypes, current, gradient,
                                                stepValue, slots, /*loss_scale=*/Value(), norm,
                                                optimizer);
      b.create<AssignOp>(loc, FlatSymbolRefAttr::get(context, name), update.getNewParam());
      for (auto [symbol, value] : llvm::zip(slotSymbols, update.getNewSlots()))
        b.create<AssignOp>(loc, symbol, value);
    }
    // Training-mode batch_norm layers move their statistics, as Keras does.
    for (auto bn : llvm::make_early_inc_range(body->getOps<BatchNormOp>())) {
      auto mean = bn.getMovingMean().getDefiningOp<WeightOp>();
      auto variance = bn.getMovingVariance().getDefiningOp<WeightOp>();
      if (!bn.getTraining() || !mean || !variance)
        continue;
      auto update = b.create<BatchNormStatisticsUpdateOp>(
          bn.getLoc(), TypeRange{mean.getType(), variance.getType()}, bn.getInput(),
          mean.getValue(), variance.getValue(), bn.getAxisAttr(), bn.getMomentumAttr());
      b.create<AssignOp>(bn.getLoc(), mean.getParamAttr(), update.getNewMean());
      b.create<AssignOp>(bn.getLoc(), variance.getParamAttr(), update.getNewVariance());
    }
    SmallVector<Value> values{mapping.lookup(gradReturn.getOperand(0))};
    SmallVector<std::string> names{"loss"};
    if (gradLosses.size() > 1)
      for (auto [o, loss] : llvm::enumerate(gradLosses)) {
        values.push_back(mapping.lookup(loss.getLoss()));
        names.push_back(loggedName(forward, o, "loss"));
      }
    if (plans)
      for (auto [o, loss] : llvm::enumerate(gradLosses)) {
        // On logits (the loss took them), a binary output counts above 0.
        bool logits = false;
        if (auto fromLogits = loss.getConfig().getOptions().getAs<BoolAttr>("from_logits"))
          logits = fromLogits.getValue();
        values.append(scoreMetrics(b, grad.getLoc(), (*plans)[o], mapping.lookup(loss.getPrediction()),
                                   mapping.lookup(loss.getLabels()), logits ? 0.0 : 0.5));
        for (const dlc::rt::MetricSettings &m : (*plans)[o].metrics)
          names.push_back(loggedName(forward, o, m.name));
      }
    b.create<func::ReturnOp>(grad.getLoc(), values);
    step.setFunctionType(b.getFunctionType(inputs, ValueRange(values).getTypes()));
    for (auto [index, name] : llvm::enumerate(names))
      step.setResultAttr(index, "dl.name", b.getStringAttr(name));
  }

  LogicalResult buildGrad(ModuleOp module, func::FuncOp forward, TrainSetupOp setup) {
    SymbolTable symbols(module);
    MLIRContext *context = module.getContext();
    OpBuilder b(context);
    b.setInsertionPointAfter(forward);
    Location loc = forward.getLoc();

    // Forward pass, in training mode.
    SmallVector<Type> inputs = batchTypes(forward, setup);
    auto grad = b.create<func::FuncOp>(loc, kGradFunction, b.getFunctionType(inputs, {}));
    SmallVector<Value> outputs = cloneForward(b, forward, grad, [&](Operation *clone) {
      if (auto dropout = dyn_cast<DropoutOp>(clone))
        dropout.setTraining(true);
      if (auto bn = dyn_cast<BatchNormOp>(clone))
        bn.setTraining(batchNormTrains(bn, symbols));
    });
    Block *body = &grad.getBody().front();

    // The loss: each output's, weighted, then their sum. Each is a root of
    // the reverse sweep (d(sum)/d(loss) = 1; the weight is in its gradient).
    SmallVector<Value> losses;
    llvm::DenseSet<Operation *> roots;
    for (auto [o, output] : llvm::enumerate(outputs)) {
      auto [lossInput, lossConfig] = useLogits(output, setup.lossOf(o));
      auto element = cast<ShapedType>(forward.getResultTypes()[o]).getElementType();
      auto loss = b.create<LossOp>(setup.getLoc(), RankedTensorType::get({}, element), lossInput,
                                   body->getArgument(forward.getNumArguments() + o), lossConfig,
                                   lossWeightAttr(b, setup, o));
      losses.push_back(loss);
      roots.insert(loss);
    }
    if (llvm::any_of(losses, [&](Value l) { return l.getType() != losses.front().getType(); }))
      return setup.emitError("the outputs' losses have different element types");
    Value total = sumOf(b, setup.getLoc(), losses);

    // Which values depend on a trainable parameter: only they need gradients.
    llvm::DenseSet<Value> varied;
    for (Operation &op : *body) {
      if (auto weight = dyn_cast<WeightOp>(op)) {
        if (isTrainable(weight, symbols))
          varied.insert(weight.getValue());
        continue;
      }
      if (llvm::any_of(op.getOperands(), [&](Value v) { return varied.contains(v); }))
        varied.insert(op.getResults().begin(), op.getResults().end());
    }

    // The reverse sweep.
    llvm::DenseMap<Value, Value> grads;
    SmallVector<Operation *> ops;
    for (Operation &op : *body)
      ops.push_back(&op);
    for (Operation *op : llvm::reverse(ops)) {
      auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
      if (!differentiable)
        continue;
      SmallVector<Value> resultGrads;
      for (Value result : op->getResults())
        resultGrads.push_back(grads.lookup(result));
      bool isRoot = roots.contains(op);
      if (!isRoot && llvm::all_of(resultGrads, [](Value g) { return !g; }))
        continue;
      SmallVector<bool> needed;
      for (Value operand : op->getOperands())
        needed.push_back(varied.contains(operand));
      if (llvm::none_of(needed, [](bool n) { return n; }))
        continue;
      SmallVector<Value> operandGrads;
      if (failed(differentiable.buildGradients(b, resultGrads, needed, operandGrads)))
        return failure();
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
        if (!g)
          continue;
        Value &sum = grads[operand];
        sum = sum ? b.create<AddOp>(op->getLoc(), operand.getType(), ValueRange{sum, g}).getResult()
                  : g;
      }
    }

    // Results: the loss, then one gradient per trainable parameter in order.
    SmallVector<Value> results{total};
    SmallVector<StringAttr> names{b.getStringAttr("loss")};
    for (auto param : module.getOps<ParamOp>()) {
      if (!param.isTrainable())
        continue;
      Value sum;
      for (auto weight : body->getOps<WeightOp>()) {
        Value g = weight.getParam() == param.getSymName() ? grads.lookup(weight.getValue()) : Value();
        if (g)
          sum = sum ? b.create<AddOp>(weight.getLoc(), param.getType(), ValueRange{sum, g}).getResult()
                    : g;
      }
      if (!sum)
        sum = b.create<ZerosOp>(param.getLoc(), param.getType());
      results.push_back(sum);
      names.push_back(param.getSymNameAttr());
    }
    b.create<func::ReturnOp>(loc, results);
    grad.setFunctionType(b.getFunctionType(inputs, ValueRange(results).getTypes()));
    for (auto [index, name] : llvm::enumerate(names))
      grad.setResultAttr(index, "dl.name", name);
    eraseDeadOps(grad);
    return success();
  }
};
} // namespace
