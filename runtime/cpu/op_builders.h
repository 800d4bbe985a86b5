//===- op_builders.h - Step builders of the training ops ------------------===//
//
// The routines of the ops of training graphs (cpu_training_ops.cc), which
// the `op` routine's dispatch table in cpu_ops.cc calls by op kind.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cpu/cpu_device.h"

namespace dlc::rt::cpu {

Status buildLoss(OpContext &ctx, bool grad, Step *step);
/// dense_grad_input, dense_grad_kernel, bias_grad (by the op's kind).
Status buildDenseGrad(OpContext &ctx, Step *step);
Status buildDropout(OpContext &ctx, Step *step);
Status buildBatchNorm(OpContext &ctx, Step *step);
/// batch_norm_grad, or with |inference| batch_norm_inference_grad.
Status buildBatchNormGrads(OpContext &ctx, bool inference, Step *step);
Status buildStatisticsUpdate(OpContext &ctx, Step *step);
Status buildEmbedding(OpContext &ctx, bool grad, Step *step);
Status buildLstm(OpContext &ctx, Step *step);
Status buildLstmGrad(OpContext &ctx, Step *step);
Status buildOptimizerUpdate(OpContext &ctx, Step *step);

} // namespace dlc::rt::cpu
