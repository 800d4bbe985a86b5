//===- op_builders.h - Call builders of the training ops ------------------===//
//
// The routines of the ops of training graphs (cpu_training_ops.cc), which
// the `op` routine's dispatch table in cpu_ops.cc calls by op kind.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cpu/cpu_device.h"

namespace dlc::rt::cpu {

Status buildLoss(OpContext &ctx, bool grad, PreparedCall *call);
Status buildExampleLoss(OpContext &ctx, PreparedCall *call);
Status buildMetric(OpContext &ctx, PreparedCall *call);
/// dense_grad_input, dense_grad_kernel, bias_grad (by the op's kind).
Status buildDenseGrad(OpContext &ctx, PreparedCall *call);
Status buildDropout(OpContext &ctx, PreparedCall *call);
Status buildBatchNorm(OpContext &ctx, PreparedCall *call);
/// batch_norm_grad, or with |inference| batch_norm_inference_grad.
Status buildBatchNormGrads(OpContext &ctx, bool inference, PreparedCall *call);
Status buildStatisticsUpdate(OpContext &ctx, PreparedCall *call);
Status buildLossScaleUpdate(OpContext &ctx, PreparedCall *call);
Status buildGradientNorm(OpContext &ctx, PreparedCall *call);
Status buildAugment(OpContext &ctx, PreparedCall *call);
Status buildEmbedding(OpContext &ctx, bool grad, PreparedCall *call);
Status buildLstm(OpContext &ctx, PreparedCall *call);
Status buildLstmGrad(OpContext &ctx, PreparedCall *call);
Status buildOptimizerUpdate(OpContext &ctx, PreparedCall *call);

} // namespace dlc::rt::cpu
