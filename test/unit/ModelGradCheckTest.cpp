//===- ModelGradCheckTest.cpp - Finite differences of whole models -------===//
//
// The example models go through the frontend and dlc-autodiff, and @grad's
// gradients are checked against central differences of its own loss in
// float64: along random directions in the space of all trainable parameters
// (one pair of evaluations checks every gradient at once) and at random single
// coordinates.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/Evaluator.h"
#include "compiler/Reference/Kernels.h"
#include "compiler/Reference/Optimizers.h"
#include "compiler/Transforms/Passes.h"
#include "frontend/ModelBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;
using namespace dlc;
using ref::RefTensor;

namespace {
struct Model {
  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  OwningOpRef<ModuleOp> module;
  func::FuncOp grad;
  std::vector<std::string> trainable; // @grad's gradient results, in order
};

std::unique_ptr<Model> build(const std::string &path) {
  auto model = std::make_unique<Model>();
  SourceMgrDiagnosticHandler handler(model->sourceMgr, &model->context);
  FailureOr<Program> program = loadProgram(path, model->sourceMgr, &model->context);
  if (failed(program))
    return nullptr;
  FailureOr<OwningOpRef<ModuleOp>> module = buildModule(*program, "", &model->context);
  if (failed(module))
    return nullptr;
  model->module = std::move(*module);
  PassManager pm(&model->context);
  pm.addPass(createAutodiffPass());
  if (failed(pm.run(*model->module)))
    return nullptr;
  model->grad = model->module->lookupSymbol<func::FuncOp>("grad");
  for (unsigned i = 1; i < model->grad.getNumResults(); ++i)
    model->trainable.push_back(
        model->grad.getResultAttrOfType<StringAttr>(i, "dl.name").str());
  return model;
}

/// Parameters ~ N(0, 1/fan_in) so that activations stay in a useful range.
ref::ParamMap randomParams(ModuleOp module, std::mt19937_64 &rng) {
  ref::ParamMap params;
  for (auto param : module.getOps<dl::ParamOp>()) {
    auto type = param.getTensorType();
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    int64_t fanIn = shape.size() > 1 ? ref::numElements(shape) / shape.back() : 1;
    std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(double(fanIn)));
    RefTensor tensor(shape);
    for (double &v : tensor.data)
      v = normal(rng);
    params[param.getSymName()] = std::move(tensor);
  }
  return params;
}

/// Inputs in [0, 1) (token ids below 50), one-hot labels.
std::vector<RefTensor> randomBatch(func::FuncOp grad, int64_t batch, std::mt19937_64 &rng) {
  std::vector<RefTensor> arguments;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (unsigned i = 0; i < grad.getNumArguments(); ++i) {
    auto type = cast<RankedTensorType>(grad.getArgumentTypes()[i]);
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    shape[0] = batch;
    RefTensor tensor(shape);
    bool labels = i + 1 == grad.getNumArguments();
    tensor.integer = type.getElementType().isSignlessInteger();
    for (int64_t k = 0; k < tensor.size(); ++k)
      tensor[k] = tensor.integer ? double(rng() % 50) : labels ? 0.0 : uniform(rng);
    if (labels)
      for (int64_t row = 0; row < batch; ++row)
        tensor[row * shape.back() + int64_t(rng() % shape.back())] = 1.0;
    arguments.push_back(std::move(tensor));
  }
  return arguments;
}

std::vector<RefTensor> run(Model &model, ArrayRef<RefTensor> arguments,
                           const ref::ParamMap &params) {
  FailureOr<std::vector<RefTensor>> results = ref::evaluate(model.grad, arguments, params);
  EXPECT_TRUE(succeeded(results));
  return succeeded(results) ? *results : std::vector<RefTensor>{};
}

/// Checks @grad of |path| by finite differences: |directions| random
/// directions and |coordinates| random single parameters. |scale| multiplies
/// the analytic gradients (1 but in the test that shows the check can fail).
void checkModel(const std::string &path, int64_t batch, int directions, int coordinates,
                double scale = 1.0) {
  std::unique_ptr<Model> model = build(path);
  ASSERT_TRUE(model) << "could not build " << path;
  std::mt19937_64 rng(20261124);
  ref::ParamMap params = randomParams(*model->module, rng);
  std::vector<RefTensor> arguments = randomBatch(model->grad, batch, rng);
  std::vector<RefTensor> results = run(*model, arguments, params);
  ASSERT_EQ(results.size(), model->trainable.size() + 1);
  for (size_t p = 1; p < results.size(); ++p)
    for (double &g : results[p].data)
      g *= scale;
  double worst = 0;

  auto lossWith = [&](const ref::ParamMap &shifted) {
    return run(*model, arguments, shifted).front()[0];
  };
  // Central differences in float64: truncation error O(eps^2), rounding error
  // about |loss| * 2^-52 / eps, which bounds what a correct gradient can miss
  // by (a few hundred units of it, for sums over many terms).
  const double eps = 1e-6, loss = results.front()[0];
  const double rounding = 256 * std::fabs(loss) * 2.2e-16 / (2 * eps);
  auto check = [&](double analytic, double numeric, const std::string &what) {
    double error = std::fabs(analytic - numeric);
    double allowed = 1e-6 * std::max(std::fabs(analytic), std::fabs(numeric)) + rounding;
    worst = std::max(worst, error / allowed);
    EXPECT_LE(error, allowed) << path << " " << what << ": analytic " << analytic
                              << ", finite difference " << numeric;
  };
  // Directions of unit length: each parameter moves by about eps/sqrt(count),
  // so relu and max-pool switch points are rarely crossed.
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int d = 0; d < directions; ++d) {
    std::vector<std::vector<double>> direction(model->trainable.size());
    double norm = 0;
    for (size_t p = 0; p < model->trainable.size(); ++p)
      for (int64_t k = 0; k < results[p + 1].size(); ++k) {
        direction[p].push_back(normal(rng));
        norm += direction[p].back() * direction[p].back();
      }
    norm = std::sqrt(norm);
    ref::ParamMap plus = params, minus = params;
    double analytic = 0;
    for (size_t p = 0; p < model->trainable.size(); ++p)
      for (int64_t k = 0; k < results[p + 1].size(); ++k) {
        double v = direction[p][k] / norm;
        plus[model->trainable[p]][k] += eps * v;
        minus[model->trainable[p]][k] -= eps * v;
        analytic += results[p + 1][k] * v;
      }
    check(analytic, (lossWith(plus) - lossWith(minus)) / (2 * eps),
          "direction " + std::to_string(d));
  }
  for (int c = 0; c < coordinates; ++c) {
    size_t p = rng() % model->trainable.size();
    const std::string &name = model->trainable[p];
    int64_t k = int64_t(rng() % uint64_t(results[p + 1].size()));
    ref::ParamMap plus = params, minus = params;
    plus[name][k] += eps;
    minus[name][k] -= eps;
    check(results[p + 1][k], (lossWith(plus) - lossWith(minus)) / (2 * eps),
          name + "[" + std::to_string(k) + "]");
  }
  std::printf("%s: %zu trainable tensors, largest error %.1f%% of the allowed\n", path.c_str(),
              model->trainable.size(), 100 * worst);
}
} // namespace

TEST(ModelGradCheck, MnistCnn) { checkModel(DLC_SOURCE_DIR "/examples/mnist_cnn.dl", 2, 3, 12); }

TEST(ModelGradCheck, TextLstm) { checkModel(DLC_SOURCE_DIR "/examples/text_lstm.dl", 2, 3, 12); }

TEST(ModelGradCheck, CatchesAGradientOffByOnePerMille) {
  EXPECT_NONFATAL_FAILURE(checkModel(DLC_SOURCE_DIR "/examples/mnist_cnn.dl", 2, 1, 0, 1.001),
                          "direction 0");
}

TEST(ModelGradCheck, Vgg16TransferAt32x32) {
  checkModel(DLC_SOURCE_DIR "/test/unit/Inputs/vgg16_small.dl", 1, 2, 6);
}

// @train_step applies the module's optimizer (here Adam) to every trainable
// parameter with @grad's gradient, keeps the slots, and the loss of a fixed
// batch goes down over a few steps.
TEST(TrainStep, UpdatesEveryParameterWithItsGradientAndLearns) {
  std::unique_ptr<Model> model = build(DLC_SOURCE_DIR "/examples/mnist_cnn.dl");
  ASSERT_TRUE(model);
  auto trainStep = model->module->lookupSymbol<func::FuncOp>("train_step");
  ASSERT_TRUE(trainStep);
  std::mt19937_64 rng(7);
  ref::ParamMap params = randomParams(*model->module, rng);
  for (auto param : model->module->getOps<dl::ParamOp>())
    if (param.isOptimizerSlot())
      std::fill(params[param.getSymName()].data.begin(), params[param.getSymName()].data.end(), 0.0);
  std::vector<RefTensor> batch = randomBatch(model->grad, 4, rng);
  std::vector<RefTensor> grads = run(*model, batch, params);
  ASSERT_EQ(grads.size(), 11u);

  auto setup = *model->module->getOps<dl::TrainSetupOp>().begin();
  ref::OptimizerConfig adam{"adam"};
  adam.learningRate = cast<FloatAttr>(setup.getOptimizer().getOptions().get("learning_rate"))
                          .getValueAsDouble();
  double firstLoss = grads.front()[0], lastLoss = firstLoss;
  for (int64_t step = 0; step < 8; ++step) {
    std::vector<RefTensor> arguments = batch;
    RefTensor stepTensor(std::vector<int64_t>{});
    stepTensor.integer = true;
    stepTensor[0] = double(step);
    arguments.push_back(stepTensor);
    ref::ParamMap updates;
    FailureOr<std::vector<RefTensor>> loss = ref::evaluate(trainStep, arguments, params, {}, &updates);
    ASSERT_TRUE(succeeded(loss));
    // 10 parameters and their m and v.
    ASSERT_EQ(updates.size(), 30u);
    if (step == 0) {
      EXPECT_EQ(loss->front()[0], firstLoss);
      for (size_t p = 0; p < model->trainable.size(); ++p) {
        RefTensor expected = params[model->trainable[p]];
        std::vector<RefTensor> slots(2, RefTensor(expected.shape));
        ref::applyOptimizer(adam, 0, expected, grads[p + 1], slots);
        EXPECT_EQ(updates[model->trainable[p]].data, expected.data) << model->trainable[p];
        EXPECT_EQ(updates[model->trainable[p] + "/m"].data, slots[0].data) << model->trainable[p];
      }
    }
    lastLoss = loss->front()[0];
    for (auto &entry : updates)
      params[entry.getKey()] = entry.getValue();
  }
  EXPECT_LT(lastLoss, firstLoss);
  std::printf("train_step on a fixed batch: loss %.4f -> %.4f over 8 Adam steps\n", firstLoss,
              lastLoss);
}

TEST(ModelGradCheck, TrainingModeBatchNorm) {
  checkModel(DLC_SOURCE_DIR "/test/unit/Inputs/bn_small.dl", 4, 3, 12);
}

// A training-mode batch_norm moves its statistics in @train_step by Keras'
// rule new = old * momentum + batch * (1 - momentum), batch statistics over
// every axis but the last (biased variance).
TEST(TrainStep, MovesBatchNormStatistics) {
  std::unique_ptr<Model> model = build(DLC_SOURCE_DIR "/test/unit/Inputs/bn_small.dl");
  ASSERT_TRUE(model);
  auto trainStep = model->module->lookupSymbol<func::FuncOp>("train_step");
  std::mt19937_64 rng(11);
  ref::ParamMap params = randomParams(*model->module, rng);
  params["bn/moving_mean"].data.assign(4, 0.5);
  params["bn/moving_variance"].data.assign(4, 2.0);
  std::vector<RefTensor> arguments = randomBatch(model->grad, 5, rng);
  RefTensor step(std::vector<int64_t>{});
  step.integer = true;
  arguments.push_back(step);
  ref::ParamMap updates;
  ASSERT_TRUE(succeeded(ref::evaluate(trainStep, arguments, params, {}, &updates)));

  RefTensor h = ref::dense(arguments[0], params["h/kernel"], &params["h/bias"]);
  for (int64_t c = 0; c < 4; ++c) {
    double sum = 0, squares = 0;
    int64_t count = h.size() / 4;
    for (int64_t r = 0; r < count; ++r)
      sum += h[r * 4 + c];
    double mean = sum / double(count);
    for (int64_t r = 0; r < count; ++r)
      squares += (h[r * 4 + c] - mean) * (h[r * 4 + c] - mean);
    EXPECT_NEAR(updates["bn/moving_mean"][c], 0.5 * 0.99 + mean * 0.01, 1e-12);
    EXPECT_NEAR(updates["bn/moving_variance"][c], 2.0 * 0.99 + squares / double(count) * 0.01, 1e-12);
  }
  // sgd without momentum keeps no slots: the 6 trainable tensors and 2 statistics.
  EXPECT_EQ(updates.size(), 8u);
}
