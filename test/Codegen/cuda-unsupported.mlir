// RUN: dlc-opt %s --dlc-fuse --dlc-print-cuda --verify-diagnostics -o /dev/null

// Tests that a group no emitter covers yet is an error at its location.
func.func @pool(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  // expected-error@+1 {{no CUDA code generation for the kernel group 'max_pool2d' yet}}
  %y = dl.max_pool2d %x {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
