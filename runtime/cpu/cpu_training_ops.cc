//===- cpu_training_ops.cc - Steps for gradients, losses, stateful ops ----===//
//
// The ops of training graphs: losses, gradient products, dropout, batch_norm,
// embedding, LSTM (whose gradient reuses the workspace its forward step
// filled in the same program run) and optimizer updates (in place on the
// parameter storage when the program lowering made the result alias it).
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/dense.h"
#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/embedding.h"
#include "runtime/cpu/loss.h"
#include "runtime/cpu/normalization.h"
#include "runtime/cpu/op_attrs.h"
#include "runtime/cpu/op_builders.h"
#include "runtime/cpu/optimizer.h"
#include "runtime/loss_scale.h"
#include "runtime/op_contracts.h"
#include "runtime/cpu/recurrent.h"

#include <cmath>
#include <cstring>

namespace dlc::rt::cpu {
namespace {

using Floats = std::shared_ptr<std::vector<float>>;

Floats scratchFloats(size_t bytes) {
  return std::make_shared<std::vector<float>>(bytes / sizeof(float) + 16);
}

/// A present optional operand at |segment| (per operandSegmentSizes), else null.
const TensorView *optionalInput(const OpContext &ctx, const std::vector<int64_t> &segments,
                                size_t segment) {
  size_t index = 0;
  for (size_t s = 0; s < segment; ++s)
    index += size_t(segments[s]);
  return segments[segment] ? &ctx.in(index) : nullptr;
}

size_t segmentStart(const std::vector<int64_t> &segments, size_t segment) {
  size_t index = 0;
  for (size_t s = 0; s < segment; ++s)
    index += size_t(segments[s]);
  return index;
}

Status lossOptions(const fb::Op &op, LossOptions *o) {
  Setting setting;
  DLC_RETURN_IF_ERROR(settingOf(op, &setting, {kLossWeight}), "");
  return decodeLoss(setting, o);
}

} // namespace

Status buildLoss(OpContext &ctx, bool grad, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  LossOptions o;
  DLC_RETURN_IF_ERROR(lossOptions(ctx.op, &o), "");
  TensorView prediction = ctx.in(0), labels = ctx.in(1), out = ctx.out(0);
  // loss_grad's optional third operand: the loss-scaling state.
  std::optional<TensorView> lossScale;
  if (grad && ctx.numInputs() == 3)
    lossScale = ctx.in(2);
  int64_t classes = prediction.shape.empty() ? 1 : prediction.shape.back();
  int64_t rows = classes ? prediction.numel() / classes : 0;
  const double weight = floatOr(ctx.op, kLossWeight, 1.0); // one output's share of the loss
  *call = [=](const RunOptions &) {
    if (grad) {
      DLC_RETURN_IF_ERROR(
          lossGrad(prediction.f32(), labels.data, labels.dtype, rows, classes, o, out.f32()), "");
      const float factor = float(weight) * (lossScale ? lossScale->f32()[loss_scale::kScale] : 1.0f);
      if (factor != 1.0f) {
        float *g = out.f32();
        for (int64_t i = 0; i < out.numel(); ++i)
          g[i] *= factor;
      }
      return okStatus();
    }
    double value = 0;
    DLC_RETURN_IF_ERROR(
        loss(prediction.f32(), labels.data, labels.dtype, rows, classes, o, &value), "");
    out.f32()[0] = float(value * weight);
    return okStatus();
  };
  return okStatus();
}

/// Predictions [N, positions..., classes] as per-example ops see them: each
/// example's |positions| rows of |classes|, its labels a class id per row
/// (|sparse|) or a row like the prediction's.
struct ExampleRows {
  int64_t examples = 0, positions = 0, classes = 0;
  bool sparse = false;
  /// Where example |e|'s labels start.
  const void *labels(const TensorView &labelView, int64_t e) const {
    int64_t perExample = positions * (sparse ? 1 : classes);
    return static_cast<const char *>(labelView.data) + size_t(e * perExample) * dtypeSize(labelView.dtype);
  }
};

static Status exampleRows(const TensorView &prediction, const TensorView &labels, const TensorView &out,
                          const std::string &what, ExampleRows *rows) {
  if (prediction.shape.size() < 2)
    return bad(what + ": predictions need a class axis after the examples, got " +
               shapeString(prediction.shape));
  rows->examples = prediction.dim(0);
  rows->classes = prediction.shape.back();
  rows->positions = rows->examples && rows->classes
                        ? prediction.numel() / rows->classes / rows->examples
                        : 0;
  rows->sparse = labels.shape.size() + 1 == prediction.shape.size();
  int64_t labelCount = rows->examples * rows->positions * (rows->sparse ? 1 : rows->classes);
  if (out.numel() != rows->examples || labels.numel() != labelCount)
    return bad(what + ": one value per example of " + shapeString(prediction.shape) + " with labels " +
               shapeString(labels.shape));
  return okStatus();
}

Status buildExampleLoss(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  LossOptions o;
  DLC_RETURN_IF_ERROR(lossOptions(ctx.op, &o), "");
  TensorView prediction = ctx.in(0), labels = ctx.in(1), out = ctx.out(0);
  ExampleRows rows;
  DLC_RETURN_IF_ERROR(exampleRows(prediction, labels, out, "example_loss", &rows), "");
  const double weight = floatOr(ctx.op, kLossWeight, 1.0);
  *call = [=](const RunOptions &) {
    // loss() is the mean over the rows it is given: an example's positions.
    const int64_t perExample = rows.positions * rows.classes;
    for (int64_t e = 0; e < rows.examples; ++e) {
      double value = 0;
      DLC_RETURN_IF_ERROR(loss(prediction.f32() + e * perExample, rows.labels(labels, e), labels.dtype,
                               rows.positions, rows.classes, o, &value),
                          "");
      out.f32()[e] = float(value * weight);
    }
    return okStatus();
  };
  return okStatus();
}

Status buildMetric(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  std::string rule = textAttr(ctx.op, "rule");
  int64_t k = 1;
  double threshold = 0.5;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "k", &k), "");
  DLC_RETURN_IF_ERROR(floatAttr(ctx.op, "threshold", &threshold), "");
  if (rule != "top_k" && rule != "binary")
    return bad("metric rule '" + rule + "' is unknown");
  TensorView prediction = ctx.in(0), labels = ctx.in(1), out = ctx.out(0);
  ExampleRows rows;
  DLC_RETURN_IF_ERROR(exampleRows(prediction, labels, out, "metric", &rows), "");
  if (rule == "binary" && rows.sparse)
    return bad("metric: binary scores need labels shaped like the prediction " +
               shapeString(prediction.shape));
  *call = [=](const RunOptions &) {
    const int64_t perExample = rows.positions * rows.classes;
    for (int64_t e = 0; e < rows.examples; ++e) {
      const float *p = prediction.f32() + e * perExample;
      const void *y = rows.labels(labels, e);
      int64_t correct = 0;
      // The fraction of the example's outputs (binary) or positions (top_k)
      // scored right.
      double scored = double(rows.positions);
      if (rule == "binary") {
        DLC_RETURN_IF_ERROR(countBinaryCorrect(p, y, labels.dtype, perExample, &correct, float(threshold)), "");
        scored = double(perExample);
      } else if (k == 1) {
        DLC_RETURN_IF_ERROR(countTop1Correct(p, y, labels.dtype, rows.positions, rows.classes, rows.sparse,
                                             &correct), "");
      } else {
        DLC_RETURN_IF_ERROR(countTopKCorrect(p, y, labels.dtype, rows.positions, rows.classes, rows.sparse,
                                             k, &correct), "");
      }
      out.f32()[e] = float(double(correct) / scored);
    }
    return okStatus();
  };
  return okStatus();
}

Status buildDropout(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
  double rate;
  DLC_RETURN_IF_ERROR(floatAttr(ctx.op, "rate", &rate), "");
  int64_t seed = 0;
  if (hasAttr(ctx.op, "seed"))
    DLC_RETURN_IF_ERROR(intAttr(ctx.op, "seed", &seed), "");
  bool training = boolOr(ctx.op, "training", false);
  TensorView x = ctx.in(0), y = ctx.out(0);
  *call = [=](const RunOptions &options) {
    if (!training)
      copy(x.data, y.data, y.bytes());
    else
      dropout(x.f32(), y.f32(), y.numel(), rate, uint64_t(seed), options.step);
    return okStatus();
  };
  return okStatus();
}

Status buildBatchNorm(OpContext &ctx, PreparedCall *call) {
  std::vector<int64_t> seg = operandSegments(ctx.op);
  if (seg.size() != 5)
    return bad("batch_norm needs its operand segment sizes");
  DLC_RETURN_IF_ERROR(need(ctx, 3, 1), "");
  int64_t axis;
  double epsilon;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "axis", &axis), "");
  DLC_RETURN_IF_ERROR(floatAttr(ctx.op, "epsilon", &epsilon), "");
  bool training = boolOr(ctx.op, "training", false);
  TensorView x = ctx.in(0), y = ctx.out(0);
  AxisDims dims;
  DLC_RETURN_IF_ERROR(axisDims(x.shape, axis, &dims), "");
  const TensorView *g = optionalInput(ctx, seg, 1), *b = optionalInput(ctx, seg, 2);
  const float *gamma = g ? g->f32() : nullptr, *beta = b ? b->f32() : nullptr;
  TensorView mean = ctx.in(segmentStart(seg, 3)), variance = ctx.in(segmentStart(seg, 4));
  Floats scratch = scratchFloats(batchNormScratchBytes(dims.channels));
  Floats stats = std::make_shared<std::vector<float>>(size_t(2 * dims.channels));
  *call = [=](const RunOptions &) {
    if (training)
      batchNormTraining(x.f32(), gamma, beta, dims, epsilon, y.f32(), stats->data(),
                        stats->data() + dims.channels, scratch->data());
    else
      batchNormInference(x.f32(), gamma, beta, mean.f32(), variance.f32(), dims, epsilon,
                         y.f32(), scratch->data());
    return okStatus();
  };
  return okStatus();
}

Status buildBatchNormGrads(OpContext &ctx, bool inference, PreparedCall *call) {
  // One optional operand (gamma) among three: MLIR records no segment sizes
  // for such ops, so the operand count says whether gamma is there.
  std::vector<int64_t> seg = operandSegments(ctx.op);
  if (seg.empty() && (ctx.numInputs() == 2 || ctx.numInputs() == 3))
    seg = {1, int64_t(ctx.numInputs()) - 2, 1};
  if (seg.size() != 3 || segmentStart(seg, 3) != ctx.numInputs())
    return bad(std::string(fb::EnumNameOpKind(ctx.op.kind())) + " takes (input or dy, gamma?, dy or moving_variance)");
  int64_t axis;
  double epsilon;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "axis", &axis), "");
  DLC_RETURN_IF_ERROR(floatAttr(ctx.op, "epsilon", &epsilon), "");
  const TensorView *g = optionalInput(ctx, seg, 1);
  const float *gamma = g ? g->f32() : nullptr;
  TensorView first = ctx.in(0), last = ctx.in(segmentStart(seg, 2)), dx = ctx.out(0);
  AxisDims dims;
  DLC_RETURN_IF_ERROR(axisDims(dx.shape, axis, &dims), "");
  Floats scratch = scratchFloats(batchNormScratchBytes(dims.channels));
  if (!inference) {
    DLC_RETURN_IF_ERROR(need(ctx, 2, 3), "");
    TensorView dgamma = ctx.out(1), dbeta = ctx.out(2);
    // operands: input, gamma?, dy
    *call = [=](const RunOptions &) {
      batchNormGrad(first.f32(), gamma, last.f32(), dims, epsilon, dx.f32(), dgamma.f32(),
                    dbeta.f32(), scratch->data());
      return okStatus();
    };
  } else {
    DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
    // operands: dy, gamma?, moving_variance
    *call = [=](const RunOptions &) {
      batchNormInferenceGrad(first.f32(), gamma, last.f32(), dims, epsilon, dx.f32(),
                             scratch->data());
      return okStatus();
    };
  }
  return okStatus();
}

Status buildStatisticsUpdate(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 3, 2), "");
  int64_t axis;
  double momentum;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "axis", &axis), "");
  DLC_RETURN_IF_ERROR(floatAttr(ctx.op, "momentum", &momentum), "");
  TensorView x = ctx.in(0), mean = ctx.in(1), var = ctx.in(2);
  TensorView newMean = ctx.out(0), newVar = ctx.out(1);
  AxisDims dims;
  DLC_RETURN_IF_ERROR(axisDims(x.shape, axis, &dims), "");
  Floats scratch = scratchFloats(batchNormScratchBytes(dims.channels));
  *call = [=](const RunOptions &) {
    batchNormStatisticsUpdate(x.f32(), dims, momentum, mean.f32(), var.f32(), newMean.f32(),
                              newVar.f32(), scratch->data());
    return okStatus();
  };
  return okStatus();
}

Status buildEmbedding(OpContext &ctx, bool grad, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  TensorView ids = ctx.in(0), second = ctx.in(1), out = ctx.out(0);
  const TensorView &table = grad ? out : second;
  if (table.shape.size() != 2)
    return bad("the embedding table must be 2-D");
  int64_t rows = table.shape[0], width = table.shape[1], count = ids.numel();
  if (ids.dtype != DType::kI32 && ids.dtype != DType::kI64)
    return bad("embedding ids must be i32 or i64");
  *call = [=](const RunOptions &) {
    if (grad)
      return embeddingGrad(ids.data, ids.dtype, count, second.f32(), rows, width, out.f32());
    return embedding(ids.data, ids.dtype, count, second.f32(), rows, width, out.f32());
  };
  return okStatus();
}

std::string lstmKey(const OpContext &ctx) {
  return "lstm:" + std::to_string(ctx.op.inputs()->Get(0)) + ":" +
         std::to_string(ctx.op.inputs()->Get(1)) + ":" + std::to_string(ctx.op.inputs()->Get(2));
}

namespace {
Status lstmShape(const TensorView &x, const TensorView &recurrent, bool returnSequences,
                 LstmShape *s) {
  if (x.shape.size() != 3 || recurrent.shape.size() != 2)
    return bad("lstm needs [batch, steps, features] input and a 2-D recurrent kernel");
  *s = LstmShape{x.shape[0], x.shape[1], x.shape[2], recurrent.shape[0], returnSequences};
  return okStatus();
}

} // namespace

Status buildLstm(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 3, 1), "");
  LstmShape s;
  DLC_RETURN_IF_ERROR(
      lstmShape(ctx.in(0), ctx.in(2), boolOr(ctx.op, "return_sequences", false), &s), "");
  TensorView x = ctx.in(0), k = ctx.in(1), r = ctx.in(2), y = ctx.out(0);
  std::optional<TensorView> bias;
  if (ctx.numInputs() > 3)
    bias = ctx.in(3);
  Floats& workspace = ctx.shared[lstmKey(ctx)];
  if (!workspace)
    workspace = scratchFloats(lstmWorkspaceBytes(s));
  Floats ws = workspace;
  *call = [=](const RunOptions &) {
    lstmForward(s, x.f32(), k.f32(), r.f32(), bias ? bias->f32() : nullptr, y.f32(), ws->data());
    return okStatus();
  };
  return okStatus();
}

Status buildLstmGrad(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 4, 4), "");
  // The forward's states, if given, are not read: the workspace the forward
  // filled holds them and more.
  const LstmGradInputs has = lstmGradInputs(ctx.numInputs(), ctx.in(3).shape.size());
  const bool hasBias = has.bias;
  LstmShape s;
  DLC_RETURN_IF_ERROR(
      lstmShape(ctx.in(0), ctx.in(2), boolOr(ctx.op, "return_sequences", false), &s), "");
  TensorView x = ctx.in(0), k = ctx.in(1), r = ctx.in(2), dy = ctx.in(has.dy());
  std::optional<TensorView> bias;
  if (hasBias)
    bias = ctx.in(3);
  TensorView dx = ctx.out(0), dk = ctx.out(1), dr = ctx.out(2), db = ctx.out(3);
  // The forward step of the same program filled this workspace; without one
  // (a program holding only the gradient) the step recomputes the forward.
  bool recompute = !ctx.shared.count(lstmKey(ctx));
  Floats& workspace = ctx.shared[lstmKey(ctx)];
  if (!workspace)
    workspace = scratchFloats(lstmWorkspaceBytes(s));
  Floats ws = workspace, scratch = scratchFloats(lstmBackwardScratchBytes(s));
  Floats y = recompute ? std::make_shared<std::vector<float>>(size_t(dy.numel())) : nullptr;
  *call = [=](const RunOptions &) {
    const float *b = bias ? bias->f32() : nullptr;
    if (recompute)
      lstmForward(s, x.f32(), k.f32(), r.f32(), b, y->data(), ws->data());
    lstmBackward(s, x.f32(), k.f32(), r.f32(), dy.f32(), ws->data(), dx.f32(), dk.f32(),
                 dr.f32(), db.f32(), scratch->data());
    return okStatus();
  };
  return okStatus();
}

namespace {
Status optimizerConfig(const fb::Op &op, OptimizerConfig *c) {
  Setting setting;
  DLC_RETURN_IF_ERROR(settingOf(op, &setting), "");
  return decodeOptimizer(setting, c);
}
} // namespace

Status buildOptimizerUpdate(OpContext &ctx, PreparedCall *call) {
  OptimizerConfig config;
  DLC_RETURN_IF_ERROR(optimizerConfig(ctx.op, &config), "");
  int slots = int(optimizerSlots(config).size());
  // param, grad, step, slots..., the loss-scaling state when scaled, and the
  // gradient's norm when the optimizer clips by norm.
  const double clip = normClip(config);
  const size_t fixed = size_t(3 + slots) + (clip > 0 ? 1 : 0);
  bool scaled = ctx.numInputs() == fixed + 1;
  DLC_RETURN_IF_ERROR(need(ctx, 3, size_t(1 + slots)), "");
  if (ctx.numInputs() != fixed && !scaled)
    return bad("optimizer_update has " + std::to_string(ctx.numInputs()) + " operands, expected " +
               std::to_string(fixed) + " (or one more with loss scaling)");
  std::optional<TensorView> lossScale, norm;
  if (scaled)
    lossScale = ctx.in(size_t(3 + slots));
  if (clip > 0)
    norm = ctx.in(ctx.numInputs() - 1);
  const bool global = config.globalClipNorm > 0;
  if (ctx.in(2).dtype != DType::kI64 || ctx.in(2).numel() != 1)
    return bad("the step operand must be an i64 scalar");
  // Results usually alias their inputs (in place on parameter storage);
  // otherwise the inputs are copied to the results first.
  std::vector<std::pair<TensorView, TensorView>> state;
  state.push_back({ctx.in(0), ctx.out(0)});
  for (int s = 0; s < slots; ++s)
    state.push_back({ctx.in(size_t(3 + s)), ctx.out(size_t(1 + s))});
  TensorView grad = ctx.in(1), stepValue = ctx.in(2);
  *call = [=](const RunOptions &) {
    std::vector<float *> slotPointers;
    for (size_t i = 0; i < state.size(); ++i) {
      if (state[i].first.data != state[i].second.data)
        copy(state[i].first.data, state[i].second.data, state[i].second.bytes());
      if (i)
        slotPointers.push_back(state[i].second.f32());
    }
    int64_t step = stepValue.i64()[0];
    float scale = 1;
    if (lossScale) {
      const float *s = lossScale->f32();
      if (s[loss_scale::kStepFinite] == 0)
        return okStatus(); // a skipped step: parameter and slots as they were
      step -= int64_t(s[loss_scale::kSkippedSteps]);
      scale = s[loss_scale::kStepScale];
    }
    float factor = 1;
    if (norm)
      factor = float(gradientClipFactor(norm->f32()[0] / scale, clip, global));
    return applyOptimizer(config, step, state[0].second.f32(), grad.f32(), scale, factor,
                          slotPointers.data(), slots, grad.numel());
  };
  return okStatus();
}

Status buildLossScaleUpdate(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  TensorView state = ctx.in(0), out = ctx.out(0);
  std::vector<TensorView> grads;
  for (size_t i = 1; i < ctx.numInputs(); ++i)
    grads.push_back(ctx.in(i));
  int64_t growthSteps = 0;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "growth_steps", &growthSteps), "");
  *call = [=](const RunOptions &) {
    bool finite = true;
    for (const TensorView &g : grads) {
      const float *v = g.f32();
      for (int64_t i = 0; i < g.numel() && finite; ++i)
        finite = std::isfinite(v[i]);
      if (!finite)
        break;
    }
    loss_scale::nextLossScaleState(state.f32(), finite, growthSteps, out.f32());
    return okStatus();
  };
  return okStatus();
}

Status buildGradientNorm(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
  std::vector<TensorView> grads;
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    grads.push_back(ctx.in(i));
  TensorView out = ctx.out(0);
  *call = [=](const RunOptions &) {
    double sum = 0; // f64 as the op says: no overflow, one order of addition
    for (const TensorView &g : grads) {
      const float *v = g.f32();
      for (int64_t i = 0; i < g.numel(); ++i)
        sum += double(v[i]) * double(v[i]);
    }
    out.f32()[0] = float(std::sqrt(sum));
    return okStatus();
  };
  return okStatus();
}

/// One data transform of the training batch, by the host pipeline's own
/// code (runtime/data/transforms.cc), over the examples in parallel.
Status buildAugment(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 3, 1), "");
  data::TransformSpec spec;
  uint64_t position = 0;
  DLC_RETURN_IF_ERROR(transformOf(ctx.op, &spec, &position), "");
  const TensorView x = ctx.in(0), ids = ctx.in(1), seed = ctx.in(2), y = ctx.out(0);
  const std::vector<int64_t> image(x.shape.begin() + 1, x.shape.end());
  auto pipeline = std::make_shared<data::Pipeline>();
  DLC_RETURN_IF_ERROR(data::Pipeline::create({spec}, image, DType::kF32, pipeline.get(), position), "");
  if (std::vector<int64_t>(y.shape.begin() + 1, y.shape.end()) != pipeline->outputShape())
    return bad("augment's result is not what '" + spec.kind + "' makes of its input");
  *call = [=](const RunOptions &) {
    const int64_t examples = x.shape[0], size = numElements(image);
    const int64_t transformed = numElements(pipeline->outputShape());
    const int64_t *id = static_cast<const int64_t *>(ids.data);
    const int64_t *key = static_cast<const int64_t *>(seed.data);
#pragma omp parallel for schedule(static)
    for (int64_t e = 0; e < examples; ++e)
      pipeline->apply(x.f32() + e * size, y.f32() + e * transformed, true,
                      data::AugmentKey{uint64_t(key[0]), uint64_t(key[1]), uint64_t(id[e])}, nullptr);
    return okStatus();
  };
  return okStatus();
}

Status buildDenseGrad(OpContext &ctx, PreparedCall *call) {
  fb::OpKind kind = ctx.op.kind();
  bool bias = kind == fb::OpKind::bias_grad;
  DLC_RETURN_IF_ERROR(need(ctx, bias ? 1 : 2, 1), "");
  TensorView a = ctx.in(0), out = ctx.out(0);
  TensorView b = bias ? a : ctx.in(1);
  int which = kind == fb::OpKind::dense_grad_input ? 0 : kind == fb::OpKind::dense_grad_kernel ? 1 : 2;
  *call = [=](const RunOptions &) {
    return which == 0 ? denseGradInput(a, b, out)
           : which == 1 ? denseGradKernel(a, b, out)
                        : biasGrad(a, out);
  };
  return okStatus();
}

} // namespace dlc::rt::cpu
