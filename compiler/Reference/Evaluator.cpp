//===- Evaluator.cpp - Runs dl functions in float64 on the CPU -----------===//
#include "compiler/Reference/Evaluator.h"
#include "compiler/Reference/Kernels.h"
#include "dialects/DL/DLOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

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

class Interpreter {
public:
  Interpreter(const ParamMap &params, const EvalOptions &options)
      : params(params), options(options) {}

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
  const RefTensor &in(Value value) { return values.find(value)->second; }
  const RefTensor *optional(Value value) { return value ? &in(value) : nullptr; }

  LogicalResult define(Operation *op, RefTensor result) {
    if (!matchesType(result, op->getResult(0).getType())) {
      op->emitOpError("computed a result of shape ")
          << result.shapeString() << " that does not match " << op->getResult(0).getType();
      return failure();
    }
    values[op->getResult(0)] = std::move(result);
    return success();
  }

  LogicalResult execute(Operation *op) {
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
          return define(op, reshape(x, {x.dim(0), x.size() / std::max<int64_t>(x.dim(0), 1)}));
        })
        .Case([&](ReshapeOp r) {
          const RefTensor &x = in(r.getInput());
          std::vector<int64_t> shape{x.dim(0)};
          int64_t known = x.dim(0), inferred = -1;
          for (int64_t dim : r.getShape()) {
            if (dim == -1)
              inferred = int64_t(shape.size());
            else
              known *= dim;
            shape.push_back(dim);
          }
          if (inferred > 0)
            shape[inferred] = known ? x.size() / known : 0;
          return define(op, reshape(x, shape));
        })
        .Case([&](DropoutOp d) {
          const RefTensor &x = in(d.getInput());
          if (!options.training)
            return define(op, x);
          return define(op, dropout(x, d.getRate().convertToDouble(), d.getSeed().value_or(0),
                                    options.step));
        })
        .Case([&](BatchNormOp bn) {
          double epsilon = bn.getEpsilon().convertToDouble();
          int64_t axis = int64_t(bn.getAxis());
          if (options.training)
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
        .Default([&](Operation *other) {
          return other->emitOpError("is not supported by the reference evaluator");
        });
  }

  const ParamMap &params;
  const EvalOptions &options;
  llvm::DenseMap<Value, RefTensor> values;
};
} // namespace

FailureOr<std::vector<RefTensor>> dlc::ref::evaluate(func::FuncOp function,
                                                     ArrayRef<RefTensor> arguments,
                                                     const ParamMap &params,
                                                     const EvalOptions &options) {
  return Interpreter(params, options).run(function, arguments);
}
