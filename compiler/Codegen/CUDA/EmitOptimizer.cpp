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
#include "dialects/DL/DLCatalog.h"
#include "runtime/loss_scale.h"
#include "runtime/settings.h"

#include <algorithm>
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

/// The learning rate at step |step| (a double expression) as device code:
/// runtime/settings.h's learningRateAt, written out for this schedule.
std::string rateExpression(const rt::LearningRateSchedule &s, const std::string &step) {
  const std::string t = "(double)(" + step + ")";
  switch (s.kind) {
  case rt::ScheduleKind::kConstant:
    return literal(s.initial);
  case rt::ScheduleKind::kExponentialDecay: {
    std::string p = t + " / " + literal(s.decaySteps);
    return literal(s.initial) + " * pow(" + literal(s.decayRate) + ", " +
           (s.staircase ? "floor(" + p + ")" : p) + ")";
  }
  case rt::ScheduleKind::kPiecewiseConstant: {
    std::string e = literal(s.values.back());
    for (size_t i = s.boundaries.size(); i-- > 0;)
      e = "(" + t + " <= " + literal(s.boundaries[i]) + " ? " + literal(s.values[i]) + " : " + e + ")";
    return e;
  }
  case rt::ScheduleKind::kCosineDecay: {
    const double warmupSteps = s.warmup ? s.warmupSteps : 0;
    const std::string clamped = "fmin(" + t + ", " + literal(s.decaySteps + warmupSteps) + ")";
    std::string decay = literal(s.warmup ? s.warmupTarget : s.initial) + " * (" + literal(1 - s.alpha) +
                        " * 0.5 * (1.0 + cos(3.141592653589793 * (" + clamped + " - " +
                        literal(warmupSteps) + ") / " + literal(s.decaySteps) + ")) + " +
                        literal(s.alpha) + ")";
    if (warmupSteps <= 0)
      return decay;
    return "(" + clamped + " < " + literal(warmupSteps) + " ? " + literal(s.initial) + " + " +
           literal(s.warmupTarget - s.initial) + " * (" + clamped + " / " + literal(warmupSteps) +
           ") : " + decay + ")";
  }
  }
  return literal(s.initial);
}

} // namespace

bool isOptimizerGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  return !body.without_terminator().empty() &&
         llvm::all_of(body.without_terminator(), [](Operation &op) { return isa<dl::OptimizerUpdateOp>(op); });
}

namespace {

/// One update's device code: |before| (once per thread: the rate, the loss
/// scale, the clip factor), |body| (element i), and |skip| (element i of a
/// step the loss scale skips: the parameter and slots copied as they are).
struct UpdateCode {
  std::string before, body, skip;
  int64_t elements = 0;
};

FailureOr<UpdateCode> updateCode(dl::FusedOp group, dl::OptimizerUpdateOp update, const ComputeType &t) {
  UpdateCode code;
  rt::OptimizerSettings c;
  if (rt::Status s = rt::decodeOptimizer(dl::settingOf(update.getConfig()), &c); !s.ok())
    return group.emitError(s.message());
  std::vector<std::string> slotNames = rt::optimizerSlots(c);
  if (slotNames.size() != update.getSlots().size())
    return group.emitError("the optimizer keeps ")
           << slotNames.size() << " slots, the update has " << update.getSlots().size();
  code.elements = cast<ShapedType>(update.getParam().getType()).getNumElements();
  // Operands are block arguments in order: param, grad, step, slots...
  auto in = [](Value v) { return inputName(v); };
  auto out = [&](unsigned result) { return resultName(group, update->getResult(result)); };
  // Slot |name|'s input and result, by its place in rt::optimizerSlots.
  auto slotIndex = [&](const char *name) {
    return unsigned(std::find(slotNames.begin(), slotNames.end(), name) - slotNames.begin());
  };
  auto slot = [&](const char *name) { return in(update.getSlots()[slotIndex(name)]); };
  auto slotOut = [&](const char *name) { return out(slotIndex(name) + 1); };
  const std::string T = t.name();
  std::string lr;
  std::string &before = code.before, &body = code.body;
  // Dynamic loss scaling (runtime/loss_scale.h): the gradient carries the
  // step's scale, the step number leaves out skipped steps, and a skipped
  // step keeps the parameter and slots as they are.
  Value scaling = update.getLossScale();
  auto field = [&](rt::loss_scale::Field f) {
    return in(scaling) + "[" + std::to_string(int(f)) + "]";
  };
  std::string stepNumber = in(update.getStep()) + "[0]";
  std::string unscale;
  if (scaling) {
    stepNumber = "(" + stepNumber + " - (long long)" + field(rt::loss_scale::kSkippedSteps) + ")";
    before += "  const " + T + " lossScale = (" + T + ")" + field(rt::loss_scale::kStepScale) + ";\n";
    unscale = " / lossScale";
  }
  // Clipping by norm (runtime/settings.h gradientClipFactor): one factor for
  // the gradient, from its norm (or all gradients' norm) unscaled like it.
  if (Value norm = update.getGradNorm()) {
    const std::string clip = literal(rt::normClip(c));
    std::string value = in(norm) + "[0]";
    if (scaling)
      value += " / " + field(rt::loss_scale::kStepScale);
    before += "  const double norm = (double)(" + value + ");\n"
              "  const " + T + " clipFactor = (" + T + ")((norm <= " + clip + " ? 1.0 : " + clip +
              " / norm)" + (c.globalClipNorm > 0 ? " + (norm - norm)" : "") + ");\n";
    unscale += " * clipFactor";
  }
  // A constant rate stays a literal; a schedule is evaluated once per
  // thread from the step, in double as on the host.
  if (c.learningRate.kind == rt::ScheduleKind::kConstant) {
    lr = literal(c.learningRate.initial);
  } else {
    before += "  const double rate = " + rateExpression(c.learningRate, stepNumber) + ";\n";
    lr = "rate";
  }
  if (c.clipValue > 0) { // Keras' clipvalue; a NaN gradient stays NaN
    body += "    " + T + " g = " + in(update.getGrad()) + "[i]" + unscale + ";\n";
    body += "    g = g > " + t.exact(c.clipValue) + " ? " + t.exact(c.clipValue) + " : (g < -" +
            t.exact(c.clipValue) + " ? -" + t.exact(c.clipValue) + " : g);\n";
  } else {
    body += "    const " + T + " g = " + in(update.getGrad()) + "[i]" + unscale + ";\n";
  }
  body += "    " + T + " p = " + in(update.getParam()) + "[i];\n";
  switch (c.kind) {
  case rt::OptimizerKind::kSgd:
    if (c.momentum <= 0) {
      body += "    p -= " + t.cast(lr) + " * g;\n";
    } else {
      body += "    " + T + " m = " + slot("momentum") + "[i];\n";
      body += "    m = " + t.exact(c.momentum) + " * m - " + t.cast(lr) + " * g;\n";
      body += c.nesterov ? "    p += " + t.exact(c.momentum) + " * m - " + t.cast(lr) + " * g;\n"
                         : "    p += m;\n";
      body += "    " + slotOut("momentum") + "[i] = m;\n";
    }
    break;
  case rt::OptimizerKind::kAdam:
  case rt::OptimizerKind::kAdamW: {
    double b1 = c.beta1, b2 = c.beta2;
    before += "  const double t = (double)(" + stepNumber + " + 1);\n"
             "  const " + T + " lr = (" + T + ")(" + lr + " * sqrt(1.0 - pow(" + literal(b2) +
             ", t)) / (1.0 - pow(" + literal(b1) + ", t)));\n";
    if (c.kind == rt::OptimizerKind::kAdamW)
      body += "    p -= p * " + t.exact(c.weightDecay) + " * " + t.cast(lr) + ";\n";
    body += "    " + T + " m = " + slot("m") + "[i], v = " + slot("v") + "[i];\n";
    body += "    m += (g - m) * " + t.exact(1 - b1) + ";\n";
    body += "    v += (g * g - v) * " + t.exact(1 - b2) + ";\n";
    std::string denominator = "v";
    if (c.amsgrad) {
      body += "    const " + T + " vhat = " + t.fn("fmax") + "(" + slot("v_hat") + "[i], v);\n    " + slotOut("v_hat") +
              "[i] = vhat;\n";
      denominator = "vhat";
    }
    body += "    p -= lr * m / (" + t.fn("sqrt") + "(" + denominator + ") + " + t.exact(c.epsilon) + ");\n";
    body += "    " + slotOut("m") + "[i] = m;\n    " + slotOut("v") + "[i] = v;\n";
    break;
  }
  case rt::OptimizerKind::kRmsprop: {
    double rho = c.rho;
    body += "    " + T + " velocity = " + t.exact(rho) + " * " + slot("velocity") + "[i] + " +
            t.exact(1 - rho) + " * g * g;\n    " + slotOut("velocity") + "[i] = velocity;\n";
    body += "    " + T + " denominator = velocity;\n";
    if (c.centered)
      body += "    const " + T + " average = " + t.exact(rho) + " * " + slot("average_gradient") +
              "[i] + " + t.exact(1 - rho) + " * g;\n    " + slotOut("average_gradient") +
              "[i] = average;\n"
              "    denominator -= average * average;\n";
    body += "    const " + T + " increment = " + t.cast(lr) + " * g / " + t.fn("sqrt") + "(denominator + " +
            t.exact(c.epsilon) + ");\n";
    if (c.momentum > 0) {
      body += "    const " + T + " buffer = " + t.exact(c.momentum) + " * " + slot("momentum") +
              "[i] + increment;\n    " + slotOut("momentum") + "[i] = buffer;\n    p -= buffer;\n";
    } else {
      body += "    p -= increment;\n";
    }
    break;
  }
  }
  body += "    " + out(0) + "[i] = p;\n";
  if (scaling) {
    code.skip = "    " + out(0) + "[i] = " + in(update.getParam()) + "[i];\n";
    for (auto [index, slotValue] : llvm::enumerate(update.getSlots()))
      code.skip += "    " + out(unsigned(index) + 1) + "[i] = " + in(slotValue) + "[i];\n";
  }
  return code;
}

/// The loop over every update's elements, one after another (element e of
/// the whole is element i of one update): each update's |part| of its code.
std::string segmentLoop(ArrayRef<UpdateCode> codes, std::string UpdateCode::*part) {
  std::string s = "  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n;\n"
                  "       e += (long long)gridDim.x * blockDim.x) {\n";
  int64_t first = 0;
  for (size_t k = 0; k < codes.size(); ++k) {
    const int64_t end = first + codes[k].elements;
    s += std::string(k ? " else " : "    ") + (k + 1 < codes.size() ? "if (e < " + std::to_string(end) + "ll) " : "") +
         "{\n    const long long i = e - " + std::to_string(first) + "ll;\n" + codes[k].*part + "    }";
    first = end;
  }
  return s + "\n  }\n";
}

} // namespace

LogicalResult emitOptimizer(dl::FusedOp group, CudaKernel &kernel) {
  const ComputeType t = computeType(group);
  SmallVector<UpdateCode> codes;
  int64_t n = 0;
  for (Operation &op : group.getBody().front().without_terminator()) {
    FailureOr<UpdateCode> code = updateCode(group, cast<dl::OptimizerUpdateOp>(op), t);
    if (failed(code))
      return failure();
    // One optimizer, step, loss scale and norm (dlc-fuse merges no others):
    // what each thread computes first is the same for every update.
    if (!codes.empty() && code->before != codes.front().before)
      return group.emitError("the updates of one optimizer kernel differ in their rate, loss scale or clipping");
    n += code->elements;
    codes.push_back(std::move(*code));
  }
  kernel.block = {kThreads, 1, 1};
  kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(4096, (n + kThreads - 1) / kThreads)), 1, 1};
  std::string s = header(group, kernel);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false, /*restrictPointers=*/false) + ") {\n";
  s += "  const long long n = " + std::to_string(n) + "ll;\n";
  if (!codes.front().skip.empty()) {
    // Results need not alias their inputs: a skipped step copies them.
    auto update = cast<dl::OptimizerUpdateOp>(group.getBody().front().front());
    s += "  if (" + inputName(update.getLossScale()) + "[" + std::to_string(int(rt::loss_scale::kStepFinite)) +
         "] == 0.0f) {\n" + segmentLoop(codes, &UpdateCode::skip) + "    return;\n  }\n";
  }
  s += codes.front().before + segmentLoop(codes, &UpdateCode::body) + "}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
