//===- SelectPrecision.cpp - Storage and compute types under a policy -----===//
//
// Implements `dlc-select-precision`: each op of each function gets the
// element types its rule (PrecisionPolicy.h) gives under the module's
// precision policy, with dl.cast inserted where a value crosses from one type
// to another. Types are the whole contract: a value of bf16 type is rounded
// to bf16 where it is made, by every backend and by the reference evaluator
// alike, and nowhere else. Parameters stay f32 (master weights): a 16-bit op
// reads them through a cast, which dlc-fuse puts into the reading kernel.
// Function signatures do not change.
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"
#include "compiler/Transforms/PrecisionPolicy.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"

namespace dlc {
#define GEN_PASS_DEF_SELECTPRECISIONPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

Type elementOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }
bool isFloat(Value v) { return isa<FloatType>(elementOf(v)); }

Type withElement(Type t, Type element) {
  auto shaped = cast<ShapedType>(t);
  return shaped.clone(element);
}

unsigned width(Type t) { return cast<FloatType>(t).getWidth(); }

/// Inserts casts before ops, one per (value, type) in each function.
class Caster {
public:
  Value to(Operation *user, Value v, Type element) {
    if (elementOf(v) == element)
      return v;
    auto key = std::make_pair(v, element);
    if (Value existing = made.lookup(key))
      return existing;
    OpBuilder b(user);
    auto c = b.create<dl::CastOp>(user->getLoc(), withElement(v.getType(), element), v,
                                  TypeAttr::get(element));
    c->setAttr(precision::kPrecisionAttr, b.getStringAttr(precision::kBoundaryCast));
    made[key] = c.getResult();
    return c.getResult();
  }

private:
  DenseMap<std::pair<Value, Type>, Value> made;
};

struct SelectPrecisionPass : dlc::impl::SelectPrecisionPassBase<SelectPrecisionPass> {
  using SelectPrecisionPassBase::SelectPrecisionPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    dl::Precision chosen = dl::Precision::fp32;
    auto setups = module.getOps<dl::TrainSetupOp>();
    if (!policy.empty()) {
      std::optional<dl::Precision> p = dl::symbolizePrecision(policy);
      if (!p) {
        module.emitError("dlc-select-precision: unknown policy '")
            << policy << "' (policies: " << llvm::join(dl::precisionPolicies(), ", ") << ")";
        return signalPassFailure();
      }
      chosen = *p;
      // The setup records the policy the programs were compiled under.
      for (dl::TrainSetupOp setup : setups)
        setup.setPrecision(chosen);
    } else if (!setups.empty()) {
      chosen = (*setups.begin()).getPrecision();
    }
    Type low = precision::lowType(context, chosen);
    Type f32 = Float32Type::get(context);
    bool ok = true;
    module.walk([&](func::FuncOp func) {
      if (func.isExternal())
        return;
      Caster caster;
      SmallVector<Operation *> order;
      for (Operation &op : func.getBody().front())
        order.push_back(&op);
      for (Operation *op : order) {
        if (isa<dl::FusedOp>(op)) {
          op->emitError("dlc-select-precision runs before dlc-fuse");
          ok = false;
          return;
        }
        if (auto ret = dyn_cast<func::ReturnOp>(op)) {
          // Results keep the function's declared types.
          for (auto [i, v] : llvm::enumerate(ret.getOperands()))
            if (isFloat(v))
              ret.setOperand(i, caster.to(op, v, cast<ShapedType>(func.getResultTypes()[i]).getElementType()));
          continue;
        }
        if (auto assign = dyn_cast<dl::AssignOp>(op)) {
          auto param = SymbolTable::lookupNearestSymbolFrom<dl::ParamOp>(op, assign.getParamAttr());
          if (param && isFloat(assign.getValue()))
            assign.getValueMutable().assign(
                caster.to(op, assign.getValue(), param.getTensorType().getElementType()));
          continue;
        }
        if (!isa_and_nonnull<dl::DLDialect>(op->getDialect()) ||
            isa<dl::WeightOp, dl::CastOp, dl::ZerosOp, dl::ParamOp, dl::TrainSetupOp>(op))
          continue;
        const precision::Rule &rule = precision::ruleFor(op);
        Type operandType;
        switch (rule.operands) {
        case precision::Operands::kLow: operandType = low; break;
        case precision::Operands::kF32: operandType = f32; break;
        case precision::Operands::kWidest:
          for (Value v : op->getOperands())
            if (isFloat(v) && (!operandType || width(elementOf(v)) > width(operandType)))
              operandType = elementOf(v);
          break;
        case precision::Operands::kAsStored: break;
        }
        if (operandType)
          for (OpOperand &use : op->getOpOperands())
            if (isFloat(use.get()))
              use.set(caster.to(op, use.get(), operandType));
        if (!operandType) // read as stored: results follow the first float operand
          for (Value v : op->getOperands())
            if (isFloat(v)) {
              operandType = elementOf(v);
              break;
            }
        unsigned index = 0;
        for (Value r : op->getResults()) {
          if (!isFloat(r))
            continue;
          Type t = rule.results == precision::Results::kF32 ? f32
                   : rule.results == precision::Results::kFirstLikeOperands && index > 0 ? f32
                   : operandType ? operandType : elementOf(r);
          r.setType(withElement(r.getType(), t));
          ++index;
        }
        bool tf32 = chosen == dl::Precision::tf32 && rule.tf32;
        if (tf32)
          op->setAttr(precision::kTf32Attr, UnitAttr::get(context));
        op->setAttr(precision::kPrecisionAttr,
                    StringAttr::get(context, tf32 ? precision::kTf32Product : rule.why));
      }
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
