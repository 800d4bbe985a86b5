// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that an elementwise chain becomes one grid-stride kernel: each input
// loaded once (four elements per thread through float4 when the size allows),
// the chain in registers, only the group's results stored (the add's result
// is used outside, the tanh's is not), and the .dl locations in the opening
// comment.
// CHECK-LABEL: // relu_grad+add+tanh from
// CHECK-SAME: :23:8 {{.*}}:24:8 {{.*}}:25:8
// CHECK: // launch: grid (1, 1, 1), block (256, 1, 1), shared 0 bytes
// CHECK: extern "C" __global__ void __launch_bounds__(256) k_relu_grad_add_tanh_{{[0-9a-f]+}}(const float *__restrict__ in0, const float *__restrict__ in1, const float *__restrict__ in2, float *__restrict__ out0, float *__restrict__ out1) {
// CHECK: const long long n = 12ll;
// CHECK: const float4 x0 = reinterpret_cast<const float4 *>(in0)[q];
// CHECK: const float a0 = (&x0.x)[c];
// CHECK: const float v0 = a0 > 0.0f ? a1 : 0.0f;
// CHECK-NEXT: const float v1 = v0 + a2;
// CHECK-NEXT: const float v2 = tanhf(v1);
// CHECK-NEXT: (&y0.x)[c] = v1;
// CHECK-NEXT: (&y1.x)[c] = v2;
// CHECK: reinterpret_cast<float4 *>(out0)[q] = y0;
// CHECK-NEXT: reinterpret_cast<float4 *>(out1)[q] = y1;
func.func @chain(%y: tensor<4x3xf32>, %dy: tensor<4x3xf32>, %b: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %g = dl.relu_grad %y, %dy : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %s = dl.add %g, %b : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %t = dl.tanh %s : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %s, %t : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// Tests that training-mode dropout draws its mask from the shared counter
// generator keyed by (seed, step, element) and reads the step from device memory.
// CHECK-LABEL: // dropout from
// CHECK: __device__ __forceinline__ double dlc_uniform01(
// CHECK: void __launch_bounds__(256) k_dropout_{{[0-9a-f]+}}(const float *__restrict__ in0, float *__restrict__ out0, const unsigned long long *__restrict__ step)
// CHECK: const long long n = 2000ll;
// CHECK: (dlc_uniform01(7ull, *step, (unsigned long long)(i)) < 0.25 ? 0.0f : a0 * 1.33333333f)
func.func @dropout(%x: tensor<1000x2xf32>) -> tensor<1000x2xf32> {
  %d = dl.dropout %x {rate = 0.25 : f64, seed = 7 : i64, training} : (tensor<1000x2xf32>) -> tensor<1000x2xf32>
  return %d : tensor<1000x2xf32>
}


// -----

// Tests that a chain ending in bias_grad reduces per channel in shared memory
// and adds each block's sums to the (runtime-zeroed) gradient with atomics.
// CHECK-LABEL: // relu_grad+bias_grad from
// CHECK: // launch: grid (1, 1, 1), block (256, 1, 1), shared 12 bytes
// CHECK: __shared__ float partial[3];
// CHECK: out0[i] = v0;
// CHECK-NEXT: atomicAdd(&partial[i % 3], v0);
// CHECK: atomicAdd(&out1[c], partial[c]);
func.func @bias(%y: tensor<4x3xf32>, %dy: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>) {
  %g = dl.relu_grad %y, %dy : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %db = dl.bias_grad %g : (tensor<4x3xf32>) -> tensor<3xf32>
  return %g, %db : tensor<4x3xf32>, tensor<3xf32>
}

// -----

// Tests that a bias gradient wider than shared memory's sums (9,000
// channels) adds straight into its result.
// CHECK-LABEL: // relu_grad+bias_grad from
// CHECK: // launch: grid ({{[0-9]+}}, 1, 1), block (256, 1, 1), shared 0 bytes
// CHECK-NOT: __shared__
// CHECK: atomicAdd(&out1[i % 9000], v0);
func.func @wide_bias(%y: tensor<2x9000xf32>, %dy: tensor<2x9000xf32>) -> (tensor<2x9000xf32>, tensor<9000xf32>) {
  %g = dl.relu_grad %y, %dy : (tensor<2x9000xf32>, tensor<2x9000xf32>) -> tensor<2x9000xf32>
  %db = dl.bias_grad %g : (tensor<2x9000xf32>) -> tensor<9000xf32>
  return %g, %db : tensor<2x9000xf32>, tensor<9000xf32>
}
