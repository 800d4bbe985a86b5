// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-print-cuda --verify-diagnostics -o /dev/null

// (A pool whose windows leave gaps, once an error here, is kept out of the
// convolution by dlc-fuse: test/Transforms/fuse.mlir.)

// Tests that an LSTM whose one step's gates do not fit shared memory (2,048
// units) is an error rather than a kernel that fails to launch. (Long
// sequences keep their states in scratch: cuda-recurrent.mlir.)
func.func @huge_lstm(%x: tensor<2x200x8xf32>, %k: tensor<8x8192xf32>, %r: tensor<2048x8192xf32>, %dy: tensor<2x2048xf32>) -> tensor<2x200x8xf32> {
  // expected-error@+1 {{no CUDA code generation for the kernel group 'lstm_grad'}}
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x8192xf32>, tensor<2048x8192xf32>, tensor<2x2048xf32>) -> (tensor<2x200x8xf32>, tensor<8x8192xf32>, tensor<2048x8192xf32>, tensor<8192xf32>)
  return %dx : tensor<2x200x8xf32>
}
