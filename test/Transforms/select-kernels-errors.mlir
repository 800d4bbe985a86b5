// RUN: dlc-opt %s --dlc-select-kernels=targets=cuda --verify-diagnostics -o /dev/null
// RUN: not dlc-opt %s --dlc-select-kernels=targets=cpu -o /dev/null 2>&1 | FileCheck %s --check-prefix=CPU
// CPU-NOT: 'dl.relu' on f16
// CPU: error: no CPU code generation for the kernel group 'relu': no cpu kernel family runs 'dl.relu' on f64 tensors (the CPU routines compute f32 values, stored as f32, f16 or bf16, with i32 and i64 ids; only cast converts others)
// RUN: not dlc-opt %s --dlc-select-kernels=targets=tpu -o /dev/null 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: dlc-select-kernels: unknown target 'tpu'

// Tests that 16-bit tensors are no error on either target: stored as f16,
// computed in f32 (mixed precision).
func.func @f16_group(%x: tensor<4xf16>) -> tensor<4xf16> {
  %y = dl.fused "relu"(%x) : (tensor<4xf16>) -> tensor<4xf16> {
  ^bb0(%a: tensor<4xf16>):
    %r = dl.relu %a : (tensor<4xf16>) -> tensor<4xf16>
    dl.yield %r : tensor<4xf16>
  }
  return %y : tensor<4xf16>
}

// Tests that a group some target cannot run is an error at the group, naming
// the target and why, and that a family takes the element types it says
// (from the registry): elementwise chains compute in f64 too, matrix
// products do not.
func.func @f64_groups(%x: tensor<4x3xf64>, %k: tensor<3x2xf64>) -> (tensor<4x3xf64>, tensor<4x2xf64>) {
  %y = dl.fused "relu"(%x) : (tensor<4x3xf64>) -> tensor<4x3xf64> {
  ^bb0(%a: tensor<4x3xf64>):
    %r = dl.relu %a : (tensor<4x3xf64>) -> tensor<4x3xf64>
    dl.yield %r : tensor<4x3xf64>
  }
  // expected-error@+1 {{no CUDA code generation for the kernel group 'dense': CUDA kernels compute with f16, bf16, f32, i32 and i64 tensors, not f64 (only these kernel families take f64: cast, elementwise)}}
  %z = dl.fused "dense"(%x, %k) : (tensor<4x3xf64>, tensor<3x2xf64>) -> tensor<4x2xf64> {
  ^bb0(%a: tensor<4x3xf64>, %b: tensor<3x2xf64>):
    %d = dl.dense %a, %b : (tensor<4x3xf64>, tensor<3x2xf64>) -> tensor<4x2xf64>
    dl.yield %d : tensor<4x2xf64>
  }
  return %y, %z : tensor<4x3xf64>, tensor<4x2xf64>
}

