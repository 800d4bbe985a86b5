// RUN: dlc-opt %s --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that Adam's update is one elementwise kernel with Keras' formulas:
// the bias-corrected rate from the step read on the device, m and v moved
// toward g and g^2, pointers not __restrict__ (results alias the inputs).
// CHECK-LABEL: // optimizer_update from
// CHECK: void __launch_bounds__(256) k_optimizer_update_{{[0-9a-f]+}}(const float *in0, const float *in1, const long long *in2, const float *in3, const float *in4, float *out0, float *out1, float *out2)
// CHECK: const double t = (double)(in2[0] + 1);
// CHECK: const float lr = (float)(0.001 * sqrt(1.0 - pow(0.999, t)) / (1.0 - pow(0.90000000000000002, t)));
// CHECK: m += (g - m) * (float)0.09999
// CHECK: v += (g * g - v) * (float)0.00100
// CHECK: p -= lr * m / (sqrtf(v) + (float)9.99
// CHECK: out1[i] = m;
// CHECK-NEXT: out2[i] = v;
// CHECK-NEXT: out0[i] = p;
func.func @adam(%p: tensor<10xf32>, %g: tensor<10xf32>, %step: tensor<i64>, %m: tensor<10xf32>, %v: tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) {
  %np, %ns:2 = dl.optimizer_update %p, %g, %step, %m, %v {config = #dl.config<"adam", {amsgrad = false, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64, learning_rate = 1.0e-03 : f64}>} : (tensor<10xf32>, tensor<10xf32>, tensor<i64>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
  return %np, %ns#0, %ns#1 : tensor<10xf32>, tensor<10xf32>, tensor<10xf32>
}
