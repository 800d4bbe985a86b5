// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that the loss on logits takes a warp per row computing the
// log-sum-exp by shuffles, each block's rows summed in a fixed order into its
// row of the table, the last block adding the blocks' in order: a mean that
// is the same in every run.
// CHECK-LABEL: // loss from
// CHECK: // launch: grid (1, 1, 1), block (256, 1, 1)
// CHECK: return in1[row * 10ll + j] * (float)1 + (float)0;
// CHECK: top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, o));
// CHECK: st.logSum = top + logf(s);
// CHECK: t += -(double)labelOf(row, j) * (double)(logit(in0, row * 10ll + j) - st.logSum);
// CHECK: scratch[blockIdx.x] = sum / 4ll;
// CHECK: lastBlock = atomicAdd((unsigned *)(scratch + 1ll), 1u) == 0u;
// CHECK: out0[c] = sum;
func.func @loss(%z: tensor<4x10xf32>, %y: tensor<4x10xf32>) -> tensor<f32> {
  %l = dl.loss %z, %y {config = #dl.config<"categorical_crossentropy", {from_logits = true, label_smoothing = 0.0 : f64}>} : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests that the gradient of sparse cross-entropy is (softmax * sum(y) - y)
// / rows, with the bias gradient reduced alongside.
// CHECK-LABEL: // loss_grad+bias_grad from
// CHECK: return (in1[row] == j ? 1.0f : 0.0f) * (float)1 + (float)0
// CHECK: const float g = (expf(logit(in0, row * 10ll + j) - st.logSum) * st.ySum - labelOf(row, j)) / (float)4ll;
// CHECK-NEXT: out0[row * 10ll + j] = g;
// CHECK-NEXT: atomicAdd(&partial[j], g);
// CHECK: atomicAdd(&out1[j], partial[j]);
func.func @grad(%z: tensor<4x10xf32>, %y: tensor<4xi32>) -> (tensor<4x10xf32>, tensor<10xf32>) {
  %g = dl.loss_grad %z, %y {config = #dl.config<"sparse_categorical_crossentropy", {from_logits = true}>} : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<4x10xf32>
  %db = dl.bias_grad %g : (tensor<4x10xf32>) -> tensor<10xf32>
  return %g, %db : tensor<4x10xf32>, tensor<10xf32>
}
