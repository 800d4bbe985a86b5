//===- EmitOptimizer.cpp - dl.optimizer_update as one elementwise kernel --===//
//
// Keras 3's update rules (compiler/Reference/Optimizers.cpp is the oracle),
// one thread per element over the parameter and its slots. The results
// usually alias the inputs (the program updates parameter storage in place),
// so these pointers are not __restrict__. The step is read from its device
// scalar, so a whole training step needs no host round trip.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include <cstdio>

using namespace mlir;

namespace dlc::cuda {
namespace {

constexpr int64_t kThreads = 256;

std::string literal(double v) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

/// An option of the optimizer's config. The catalog (dialects/DL) is the
/// one place that knows defaults and fills in every option, so a missing
/// one is named in *missing, never replaced by a default of this emitter.
double option(dl::ConfigAttr config, StringRef name, std::string *missing) {
  Attribute a = config.getOptions().get(name);
  if (auto f = dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto b = dyn_cast_or_null<BoolAttr>(a))
    return b.getValue();
  if (auto i = dyn_cast_or_null<IntegerAttr>(a))
    return double(i.getInt());
  if (missing->empty())
    *missing = name.str();
  return 0;
}

} // namespace

bool isOptimizerGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  return llvm::hasSingleElement(body.without_terminator()) &&
         isa<dl::OptimizerUpdateOp>(body.front());
}

LogicalResult emitOptimizer(dl::FusedOp group, CudaKernel &kernel) {
  auto update = cast<dl::OptimizerUpdateOp>(group.getBody().front().front());
  dl::ConfigAttr c = update.getConfig();
  StringRef kind = c.getKind().getValue();
  int64_t n = cast<ShapedType>(update.getParam().getType()).getNumElements();
  // Operands are block arguments in order: param, grad, step, slots...
  auto in = [](Value v) { return inputName(v); };
  auto out = [&](unsigned result) { return resultName(group, update->getResult(result)); };
  std::string missing;
  std::string lr = literal(option(c, "learning_rate", &missing));
  std::string before, body;
  SmallVector<std::string> slot, slotOut;
  for (auto [i, s] : llvm::enumerate(update.getSlots())) {
    slot.push_back(in(s));
    slotOut.push_back(out(unsigned(i + 1)));
  }
  body += "    const float g = " + in(update.getGrad()) + "[i];\n";
  body += "    float p = " + in(update.getParam()) + "[i];\n";
  if (kind == "sgd") {
    double momentum = option(c, "momentum", &missing);
    if (momentum <= 0) {
      body += "    p -= (float)" + lr + " * g;\n";
    } else {
      body += "    float m = " + slot[0] + "[i];\n";
      body += "    m = (float)" + literal(momentum) + " * m - (float)" + lr + " * g;\n";
      body += option(c, "nesterov", &missing) ? "    p += (float)" + literal(momentum) + " * m - (float)" + lr + " * g;\n"
                                         : "    p += m;\n";
      body += "    " + slotOut[0] + "[i] = m;\n";
    }
  } else if (kind == "adam" || kind == "adamw") {
    double b1 = option(c, "beta_1", &missing), b2 = option(c, "beta_2", &missing);
    before = "  const double t = (double)(" + in(update.getStep()) + "[0] + 1);\n"
             "  const float lr = (float)(" + lr + " * sqrt(1.0 - pow(" + literal(b2) +
             ", t)) / (1.0 - pow(" + literal(b1) + ", t)));\n";
    if (kind == "adamw")
      body += "    p -= p * (float)" + literal(option(c, "weight_decay", &missing)) + " * (float)" + lr + ";\n";
    body += "    float m = " + slot[0] + "[i], v = " + slot[1] + "[i];\n";
    body += "    m += (g - m) * (float)" + literal(1 - b1) + ";\n";
    body += "    v += (g * g - v) * (float)" + literal(1 - b2) + ";\n";
    std::string denominator = "v";
    if (option(c, "amsgrad", &missing)) {
      body += "    const float vhat = fmaxf(" + slot[2] + "[i], v);\n    " + slotOut[2] + "[i] = vhat;\n";
      denominator = "vhat";
    }
    body += "    p -= lr * m / (sqrtf(" + denominator + ") + (float)" + literal(option(c, "epsilon", &missing)) + ");\n";
    body += "    " + slotOut[0] + "[i] = m;\n    " + slotOut[1] + "[i] = v;\n";
  } else if (kind == "rmsprop") {
    double rho = option(c, "rho", &missing), momentum = option(c, "momentum", &missing);
    bool centered = option(c, "centered", &missing);
    body += "    float velocity = (float)" + literal(rho) + " * " + slot[0] + "[i] + (float)" +
            literal(1 - rho) + " * g * g;\n    " + slotOut[0] + "[i] = velocity;\n";
    body += "    float denominator = velocity;\n";
    if (centered)
      body += "    const float average = (float)" + literal(rho) + " * " + slot[1] + "[i] + (float)" +
              literal(1 - rho) + " * g;\n    " + slotOut[1] + "[i] = average;\n"
              "    denominator -= average * average;\n";
    body += "    const float increment = (float)" + lr + " * g / sqrtf(denominator + (float)" +
            literal(option(c, "epsilon", &missing)) + ");\n";
    if (momentum > 0) {
      size_t m = centered ? 2 : 1;
      body += "    const float buffer = (float)" + literal(momentum) + " * " + slot[m] +
              "[i] + increment;\n    " + slotOut[m] + "[i] = buffer;\n    p -= buffer;\n";
    } else {
      body += "    p -= increment;\n";
    }
  } else {
    return group.emitError("no CUDA code generation for optimizer '") << kind << "'";
  }
  if (!missing.empty())
    return group.emitError("the ") << kind << " optimizer's config has no option '" << missing
                                   << "' (the catalog fills in every option)";
  body += "    " + out(0) + "[i] = p;\n";

  kernel.block = {kThreads, 1, 1};
  kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(4096, (n + kThreads - 1) / kThreads)), 1, 1};
  std::string s = header(group, kernel);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false, /*restrictPointers=*/false) + ") {\n";
  s += before + "  const long long n = " + std::to_string(n) + "ll;\n";
  s += "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;\n"
       "       i += (long long)gridDim.x * blockDim.x) {\n" + body + "  }\n}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
