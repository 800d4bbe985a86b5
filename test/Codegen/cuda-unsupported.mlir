// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-print-cuda --verify-diagnostics -o /dev/null

// Tests that a group no emitter covers is an error at its location: a pool
// whose windows leave gaps (stride above the window) cannot be tiled into the
// convolution's epilogue.
func.func @gapped_pool(%x: tensor<1x9x9x2xf32>, %k: tensor<3x3x2x4xf32>) -> tensor<1x2x2x4xf32> {
  // expected-error@+1 {{no CUDA code generation for the kernel group 'conv2d+relu+max_pool2d'}}
  %c = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<1x9x9x2xf32>, tensor<3x3x2x4xf32>) -> tensor<1x7x7x4xf32>
  %r = dl.relu %c : (tensor<1x7x7x4xf32>) -> tensor<1x7x7x4xf32>
  %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 3, 3>} : (tensor<1x7x7x4xf32>) -> tensor<1x2x2x4xf32>
  return %p : tensor<1x2x2x4xf32>
}

// -----

// Tests that an LSTM whose per-row state does not fit shared memory is an
// error rather than a kernel that fails to launch.
func.func @huge_lstm(%x: tensor<2x200x8xf32>, %k: tensor<8x1024xf32>, %r: tensor<256x1024xf32>, %dy: tensor<2x256xf32>) -> tensor<2x200x8xf32> {
  // expected-error@+1 {{no CUDA code generation for the kernel group 'lstm_grad'}}
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<2x256xf32>) -> (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<1024xf32>)
  return %dx : tensor<2x200x8xf32>
}
