// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that dense + bias + relu is one tiled matrix product (64x64 tiles,
// K through shared memory in steps of 16) with bias and activation applied
// in the epilogue before the only store.
// CHECK-LABEL: // dense+relu from
// CHECK: // launch: grid (1, 2, 1), block (256, 1, 1), shared 8704 bytes
// CHECK: void __launch_bounds__(256) k0_dense_relu(const float *__restrict__ in0, const float *__restrict__ in1, const float *__restrict__ in2, float *__restrict__ out0)
// CHECK: const long long M = 100ll, N = 3ll, K = 8ll;
// CHECK: __shared__ float As[16][64 + 4];
// CHECK: As[kk][r] = m < M && k < K ? in0[m * 8ll + k] : 0.0f;
// CHECK: Bs[kb][c] = k < K && n < N ? in1[k * 3ll + n] : 0.0f;
// CHECK-COUNT-2: __syncthreads();
// CHECK: v += in2[n];
// CHECK-NEXT: v = fmaxf(v, 0.0f);
// CHECK-NEXT: out0[m * 3ll + n] = v;
func.func @dense_relu(%x: tensor<100x8xf32>, %k: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<100x3xf32> {
  %d = dl.dense %x, %k, %b : (tensor<100x8xf32>, tensor<8x3xf32>, tensor<3xf32>) -> tensor<100x3xf32>
  %r = dl.relu %d : (tensor<100x3xf32>) -> tensor<100x3xf32>
  return %r : tensor<100x3xf32>
}

// -----

// Tests that a convolution is an implicit GEMM (no im2col buffer): the A
// operand is read through the window map with TF same padding (pad 1 before
// for a 3x3 window at stride 1) and zero outside the image.
// CHECK-LABEL: // conv2d from
// CHECK: __device__ __forceinline__ float dlc_conv_a(const float *x, long long m, long long k) {
// CHECK: return ((oy * 1ll - 1ll + ky * 1ll) >= 0 && (oy * 1ll - 1ll + ky * 1ll) < 5ll
// CHECK: const long long M = 50ll, N = 4ll, K = 27ll;
// CHECK: As[kk][r] = m < M && k < K ? dlc_conv_a(in0, m, k) : 0.0f;
func.func @conv(%x: tensor<2x5x5x3xf32>, %k: tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32> {
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32>
  return %y : tensor<2x5x5x4xf32>
}

// -----

// Tests that dense + softmax over a row that fits one tile reduces the row's
// max and sum with shuffles among the 16 lanes that share it.
// CHECK-LABEL: // dense+softmax from
// CHECK: best = fmaxf(best, __shfl_xor_sync(0xffffffffu, best, o));
// CHECK: sum += __shfl_xor_sync(0xffffffffu, sum, o);
// CHECK: out0[m * N + n] = v4[j] / sum;
func.func @dense_softmax(%x: tensor<4x8xf32>, %k: tensor<8x10xf32>) -> tensor<4x10xf32> {
  %d = dl.dense %x, %k : (tensor<4x8xf32>, tensor<8x10xf32>) -> tensor<4x10xf32>
  %s = dl.softmax %d {axis = -1 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %s : tensor<4x10xf32>
}
