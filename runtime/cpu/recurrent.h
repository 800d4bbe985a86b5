//===- recurrent.h - The LSTM forward pass and its backpropagation --------===//
//
// dl.lstm and dl.lstm_grad in float32, equal to ref::lstm / ref::lstmGrad:
// Keras' LSTM with gates [i | f | c | o], x [batch, steps, features], kernel
// [features, 4u], recurrent kernel [u, 4u], optional bias [4u], zero initial
// state; y is [batch, steps, u] with return_sequences, else [batch, u].
//
// The forward pass fills a workspace with what the backward pass needs (the
// activated gates, h_{t-1} and c_t of every step), so a training step runs
// the recurrence once: lstmForward, then lstmBackward on the same workspace.
// The input projection of all steps is one matrix product, and so are the
// three weight gradients after the backward recurrence; only h · U and
// dz · Uᵀ are per step.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>

namespace dlc::rt::cpu {

struct LstmShape {
  int64_t batch = 0, steps = 0, features = 0, units = 0;
  bool returnSequences = false;
};

/// Bytes of the workspace lstmForward fills and lstmBackward consumes:
/// 7 * batch * steps * units floats.
size_t lstmWorkspaceBytes(const LstmShape &shape);

/// Bytes of lstmBackward's own scratch: 2 * batch * units floats.
size_t lstmBackwardScratchBytes(const LstmShape &shape);

/// Runs the LSTM over x. |y| may be null (a forward run only to fill the
/// workspace for lstmBackward); |bias| may be null. |workspace| holds
/// lstmWorkspaceBytes(shape) bytes, 4-byte aligned; an inference run needs
/// it too (it holds the step products).
void lstmForward(const LstmShape &shape, const float *x, const float *kernel,
                 const float *recurrent, const float *bias, float *y, float *workspace);

/// Backpropagation through time from |dy| (y's shape) and the workspace
/// lstmForward filled with the same x and weights. The workspace is consumed:
/// its gates are overwritten with their gradients, so run lstmForward again
/// before another backward pass. dbias is written even without a bias (the
/// gradient of a zero bias); any of dx, dkernel, drecurrent, dbias may be
/// null to skip it. |scratch| holds lstmBackwardScratchBytes(shape) bytes.
void lstmBackward(const LstmShape &shape, const float *x, const float *kernel,
                  const float *recurrent, const float *dy, float *workspace, float *dx,
                  float *dkernel, float *drecurrent, float *dbias, float *scratch);

} // namespace dlc::rt::cpu
