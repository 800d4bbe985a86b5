// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-print-cuda --verify-diagnostics -o /dev/null

// (A pool whose windows leave gaps, once an error here, is kept out of the
// convolution by dlc-fuse: test/Transforms/fuse.mlir.)

// Tests that an LSTM whose per-row state does not fit shared memory is an
// error rather than a kernel that fails to launch.
func.func @huge_lstm(%x: tensor<2x200x8xf32>, %k: tensor<8x1024xf32>, %r: tensor<256x1024xf32>, %dy: tensor<2x256xf32>) -> tensor<2x200x8xf32> {
  // expected-error@+1 {{no CUDA code generation for the kernel group 'lstm_grad'}}
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<2x256xf32>) -> (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<1024xf32>)
  return %dx : tensor<2x200x8xf32>
}
