//===- Autodiff.cpp - Reverse-mode differentiation of the forward pass ---===//
//
// @forward + the training setup's loss -> @grad(inputs..., labels) returning
// the loss and one gradient per trainable parameter.
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

/// How a program scores the setup's metrics on the device: each metric
/// decoded, and whether they score binary outputs (Keras resolves
/// `accuracy` by the loss: binary for binary_crossentropy).
struct MetricPlan {
  SmallVector<dlc::rt::MetricSettings> metrics;
  bool binary = false;
};

/// The plan for |setup|'s metrics on |prediction|, or none when it has no
/// class axis after the examples ([N, classes] or [N, positions...,
/// classes]) or a setting does not decode (the setup's verifier says why).
std::optional<MetricPlan> planMetrics(TrainSetupOp setup, Type prediction) {
  auto type = dyn_cast<RankedTensorType>(prediction);
  dlc::rt::LossSettings loss;
  if (!type || type.getRank() < 2 || !dlc::rt::decodeLoss(settingOf(setup.getLoss()), &loss).ok())
    return std::nullopt;
  MetricPlan plan;
  plan.binary = loss.kind == dlc::rt::LossKind::kBinaryCrossentropy;
  for (Attribute a : setup.getMetrics()) {
    dlc::rt::MetricSettings m;
    if (!dlc::rt::decodeMetric(settingOf(cast<ConfigAttr>(a)), &m).ok())
      return std::nullopt;
    plan.metrics.push_back(m);
  }
  return plan;
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

/// Fills |function| (taking @forward's inputs, then the labels) with a
/// copy of @forward's body, each copied op passed to |adjust|; returns the
/// copy of the model's output. The builder is left at the body's end.
Value cloneForward(OpBuilder &b, func::FuncOp forward, func::FuncOp function,
                   function_ref<void(Operation *)> adjust) {
  Block *body = function.addEntryBlock();
  IRMapping mapping;
  for (auto [index, argument] : llvm::enumerate(forward.getArguments())) {
    mapping.map(argument, body->getArgument(index));
    if (auto name = forward.getArgAttr(index, "dl.name"))
      function.setArgAttr(index, "dl.name", name);
  }
  function.setArgAttr(forward.getNumArguments(), "dl.name", b.getStringAttr("labels"));
  b.setInsertionPointToEnd(body);
  for (Operation &op : forward.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op))
      return mapping.lookup(ret.getOperand(0));
    adjust(b.clone(op, mapping));
  }
  return {};
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
    if (forward.getNumResults() != 1) {
      forward.emitError("training needs a model with one output, this one has ")
          << forward.getNumResults();
      return signalPassFailure();
    }
    if (module.lookupSymbol(kGradFunction)) {
      module.emitError("the module already has a @grad function");
      return signalPassFailure();
    }
    if (failed(buildGrad(module, forward, *setups.begin())))
      return signalPassFailure();
    buildTrainStep(module, *setups.begin());
    if (failed(buildEvaluate(module, forward, *setups.begin())))
      return signalPassFailure();
  }

  /// @evaluate(inputs..., labels) -> (loss, metric...): each example's loss
  /// and each metric's score of each example, so that validation runs on
  /// the device that trains and the host only sums the batch's real
  /// examples. Built for predictions with a class axis ([N, classes] or
  /// [N, positions..., classes]); the trainer needs it.
  LogicalResult buildEvaluate(ModuleOp module, func::FuncOp forward, TrainSetupOp setup) {
    auto prediction = dyn_cast<RankedTensorType>(forward.getResultTypes().front());
    std::optional<MetricPlan> plan = planMetrics(setup, prediction);
    if (!plan)
      return success();
    MLIRContext *context = module.getContext();
    OpBuilder b(context);
    b.setInsertionPointAfter(module.lookupSymbol<func::FuncOp>("train_step"));
    Location loc = forward.getLoc();
    SmallVector<Type> inputs(forward.getArgumentTypes());
    inputs.push_back(labelsType(setup.getLoss(), prediction));
    auto perExample = RankedTensorType::get({prediction.getDimSize(0)}, b.getF32Type());
    SmallVector<Type> results(1 + plan->metrics.size(), perExample);
    auto evaluate = b.create<func::FuncOp>(loc, "evaluate", b.getFunctionType(inputs, results));
    // The forward pass as it is: in inference mode.
    Value output = cloneForward(b, forward, evaluate, [](Operation *) {});
    Value labels = evaluate.getArguments().back();
    SmallVector<Value> values{
        b.create<ExampleLossOp>(loc, perExample, output, labels, setup.getLoss())};
    evaluate.setResultAttr(0, "dl.name", b.getStringAttr("loss"));
    // Binary outputs count as 1 above 0.5, as on the model's output.
    values.append(scoreMetrics(b, loc, *plan, output, labels, 0.5));
    for (auto [index, m] : llvm::enumerate(plan->metrics))
      evaluate.setResultAttr(index + 1, "dl.name", b.getStringAttr(m.name));
    b.create<func::ReturnOp>(loc, values);
    return success();
  }

  /// @train_step(inputs..., labels, step) -> (loss, metric...): @grad's
  /// computation and each metric's score of each example, then
  /// one optimizer_update per trainable parameter, whose results are
  /// assigned back to the parameter and its slots (module-level dl.param ops
  /// marked `slot of`, created here, zero-initialised).
  void buildTrainStep(ModuleOp module, TrainSetupOp setup) {
    auto grad = module.lookupSymbol<func::FuncOp>(kGradFunction);
    MLIRContext *context = module.getContext();
    OpBuilder b(context);
    b.setInsertionPointAfter(grad);
    SmallVector<Type> inputs(grad.getArgumentTypes());
    auto stepType = RankedTensorType::get({}, IntegerType::get(context, 64));
    inputs.push_back(stepType);
    Type lossType = grad.getResultTypes().front();
    // Training metrics score the prediction the loss took (no second
    // forward pass).
    auto gradLoss = cast<func::ReturnOp>(grad.getBody().front().getTerminator())
                        .getOperand(0)
                        .getDefiningOp<LossOp>();
    Type predictionType = gradLoss.getPrediction().getType();
    // Each example's metric scores too, so the batch's metrics are counted
    // on the device (the host sums the real examples).
    std::optional<MetricPlan> plan = planMetrics(setup, predictionType);
    SmallVector<Type> results{lossType};
    if (plan)
      results.append(plan->metrics.size(),
                     RankedTensorType::get({cast<ShapedType>(predictionType).getDimSize(0)},
                                           b.getF32Type()));
    auto step = b.create<func::FuncOp>(grad.getLoc(), "train_step", b.getFunctionType(inputs, results));
    for (unsigned i = 0; i < grad.getNumArguments(); ++i)
      if (auto name = grad.getArgAttr(i, "dl.name"))
        step.setArgAttr(i, "dl.name", name);
    step.setArgAttr(grad.getNumArguments(), "dl.name", b.getStringAttr("step"));
    step.setResultAttr(0, "dl.name", b.getStringAttr("loss"));
    bool logits = false;
    if (auto fromLogits = gradLoss.getConfig().getOptions().getAs<BoolAttr>("from_logits"))
      logits = fromLogits.getValue();
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
    if (plan) {
      // On logits (the loss took them), a binary output counts above 0.
      values.append(scoreMetrics(b, grad.getLoc(), *plan, mapping.lookup(gradLoss.getPrediction()),
                                 body->getArgument(grad.getNumArguments() - 1), logits ? 0.0 : 0.5));
      for (auto [index, m] : llvm::enumerate(plan->metrics))
        step.setResultAttr(index + 1, "dl.name", b.getStringAttr(m.name));
    }
    b.create<func::ReturnOp>(grad.getLoc(), values);
  }

  LogicalResult buildGrad(ModuleOp module, func::FuncOp forward, TrainSetupOp setup) {
    SymbolTable symbols(module);
    MLIRContext *context = module.getContext();
    OpBuilder b(context);
    b.setInsertionPointAfter(forward);
    Location loc = forward.getLoc();

    // Forward pass, in training mode.
    Type prediction = forward.getResultTypes().front();
    SmallVector<Type> inputs(forward.getArgumentTypes());
    inputs.push_back(labelsType(setup.getLoss(), prediction));
    auto grad = b.create<func::FuncOp>(loc, kGradFunction, b.getFunctionType(inputs, {}));
    Value output = cloneForward(b, forward, grad, [&](Operation *clone) {
      if (auto dropout = dyn_cast<DropoutOp>(clone))
        dropout.setTraining(true);
      if (auto bn = dyn_cast<BatchNormOp>(clone))
        bn.setTraining(batchNormTrains(bn, symbols));
    });
    Block *body = &grad.getBody().front();

    // The loss.
    auto [lossInput, lossConfig] = useLogits(output, setup.getLoss());
    auto element = cast<ShapedType>(prediction).getElementType();
    auto loss = b.create<LossOp>(setup.getLoc(), RankedTensorType::get({}, element), lossInput,
                                 body->getArguments().back(), lossConfig);

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
      bool isRoot = op == loss.getOperation();
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
    SmallVector<Value> results{loss};
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
