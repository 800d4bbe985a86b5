// RUN: dlc-opt %s --dlc-fuse --dlc-print-cuda --verify-diagnostics -o /dev/null

// Tests that a group no emitter covers yet is an error at its location.
func.func @conv(%x: tensor<1x4x4x1xf32>, %k: tensor<3x3x1x2xf32>) -> tensor<1x2x2x2xf32> {
  // expected-error@+1 {{no CUDA code generation for the kernel group 'conv2d' yet}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<1x4x4x1xf32>, tensor<3x3x1x2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
