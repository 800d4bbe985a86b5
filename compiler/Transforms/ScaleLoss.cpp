//===- ScaleLoss.cpp - Dynamic loss scaling in the training step ----------===//
//
// Implements `dlc-scale-loss`. fp16 gradients below 2^-24 vanish; scaling
// the loss gradient by a large power of two keeps them, and dividing the
// parameter gradients (f32) by it again before the optimizer leaves the
// update unchanged. The scale follows Keras' LossScaleOptimizer, decided on
// the device from the state of runtime/loss_scale.h:
//
//   %state = dl.weight @"optimizer/loss_scale"
//   %dy    = dl.loss_grad %prediction, %labels, %state      (times the scale)
//   ...                                                    (the backward pass)
//   %next  = dl.loss_scale_update %state, %g1, ..., %gn     (all finite?)
//   %p1'   = dl.optimizer_update %p1, %g1, %step, ... loss_scale %next
//   dl.assign @"optimizer/loss_scale", %next
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"
#include "compiler/Transforms/PrecisionPolicy.h"
#include "dialects/DL/DLCatalog.h"
#include "runtime/loss_scale.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace dlc {
#define GEN_PASS_DEF_SCALELOSSPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

using rt::loss_scale::kStateName;

struct ScaleLossPass : dlc::impl::ScaleLossPassBase<ScaleLossPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    auto setups = module.getOps<dl::TrainSetupOp>();
    if (setups.empty())
      return;
    dl::TrainSetupOp setup = *setups.begin();
    Builder b(context);
    // Unset: dynamic under mixed_fp16 (as Keras wraps the optimizer under
    // mixed_float16), none otherwise. The setup then records the choice.
    dl::ConfigAttr config = setup.getLossScaleAttr();
    if (!config) {
      bool fp16 = setup.getPrecision() == dl::Precision::mixed_fp16;
      NamedAttrList options;
      if (fp16) {
        options.append("growth_steps", b.getI64IntegerAttr(rt::loss_scale::kGrowthSteps));
        options.append("initial_scale", b.getF64FloatAttr(rt::loss_scale::kInitialScale));
      }
      config = dl::ConfigAttr::get(context, b.getStringAttr(fp16 ? "dynamic" : "none"),
                                   options.getDictionary(context));
      setup.setLossScaleAttr(config);
    }
    rt::LossScaleSettings settings;
    if (rt::Status s = rt::decodeLossScale(dl::settingOf(config), &settings); !s.ok()) {
      setup.emitError(s.message());
      return signalPassFailure();
    }
    auto step = module.lookupSymbol<func::FuncOp>("train_step");
    if (!settings.dynamic || !step || step.isExternal())
      return;
    if (module.lookupSymbol(kStateName)) {
      module.emitError("dlc-scale-loss: the module already has a parameter '")
          << kStateName << "' (the pass runs once)";
      return signalPassFailure();
    }

    Block &body = step.getBody().front();
    SmallVector<dl::LossGradOp> lossGrads(body.getOps<dl::LossGradOp>());
    SmallVector<dl::OptimizerUpdateOp> updates(body.getOps<dl::OptimizerUpdateOp>());
    if (lossGrads.empty()) {
      step.emitError("dlc-scale-loss: @train_step has no loss gradient to scale");
      return signalPassFailure();
    }
    if (updates.empty()) // nothing trainable: no gradient to scale
      return;

    // The state parameter, before the functions.
    auto stateType = RankedTensorType::get({rt::loss_scale::kFields}, b.getF32Type());
    float initial[rt::loss_scale::kFields];
    rt::loss_scale::initialState(float(settings.initialScale), initial);
    OpBuilder moduleBuilder(context);
    moduleBuilder.setInsertionPoint(step);
    moduleBuilder.create<dl::ParamOp>(
        step.getLoc(), kStateName, stateType, dl::Initializer::constant, /*frozen=*/true,
        StringAttr(), b.getStringAttr(rt::loss_scale::kOwner),
        DenseElementsAttr::get(stateType, llvm::ArrayRef(initial)), StringAttr(), StringAttr(),
        DenseI64ArrayAttr());

    auto symbol = FlatSymbolRefAttr::get(context, kStateName);
    OpBuilder builder(context);
    builder.setInsertionPointToStart(&body);
    Value state = builder.create<dl::WeightOp>(step.getLoc(), stateType, symbol);
    // A model with several outputs has a loss gradient per output: all
    // scaled by the one state, which checks the gradients they add up to.
    for (dl::LossGradOp lossGrad : lossGrads)
      lossGrad.getLossScaleMutable().assign(state);

    // Every gradient the optimizer reads, checked before the first update.
    SmallVector<Value> grads;
    Operation *first = updates.front();
    for (dl::OptimizerUpdateOp u : updates) {
      Value g = u.getGrad();
      grads.push_back(g);
      // dlc-select-precision puts a conversion right before its reader; one
      // of a later update's gradient moves up to where all are checked.
      Operation *def = g.getDefiningOp();
      if (!def || def->getBlock() != &body || def->isBeforeInBlock(first))
        continue;
      auto cast = dyn_cast<dl::CastOp>(def);
      Operation *source = cast ? cast.getInput().getDefiningOp() : nullptr;
      if (!cast || (source && source->getBlock() == &body && !source->isBeforeInBlock(first))) {
        u.emitError("dlc-scale-loss: this gradient is made after the first optimizer update");
        return signalPassFailure();
      }
      def->moveBefore(first);
    }
    builder.setInsertionPoint(first);
    auto check = builder.create<dl::LossScaleUpdateOp>(
        lossGrads.front().getLoc(), stateType, state, grads,
        builder.getI64IntegerAttr(settings.growthSteps));
    check->setAttr(precision::kPrecisionAttr,
                   b.getStringAttr(precision::ruleFor(check).why));
    for (dl::OptimizerUpdateOp u : updates)
      u.getLossScaleMutable().assign(check.getNewState());
    builder.setInsertionPointAfter(updates.back());
    builder.create<dl::AssignOp>(check.getLoc(), symbol, check.getNewState());
  }
};

} // namespace
