// RUN: dlc-opt %s --dlc-select-kernels --verify-diagnostics -o /dev/null
// RUN: not dlc-opt %s --dlc-select-kernels=targets=tpu -o /dev/null 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: dlc-select-kernels: unknown target 'tpu'

// Tests that a group some target cannot run is an error at the group, naming
// the target and why (here CUDA: an f64 tensor).
func.func @f64_group(%x: tensor<4xf64>) -> tensor<4xf64> {
  // expected-error@+1 {{no CUDA code generation for the kernel group 'relu': CUDA code generation computes with f32, i32 and i64 tensors (and casts from and to f16, bf16 and f64), not f64}}
  %y = dl.fused "relu"(%x) : (tensor<4xf64>) -> tensor<4xf64> {
  ^bb0(%a: tensor<4xf64>):
    %r = dl.relu %a : (tensor<4xf64>) -> tensor<4xf64>
    dl.yield %r : tensor<4xf64>
  }
  return %y : tensor<4xf64>
}

