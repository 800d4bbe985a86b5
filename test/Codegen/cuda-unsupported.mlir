// RUN: dlc-opt %s --split-input-file --dlc-select-kernels=targets=cuda --verify-diagnostics -o /dev/null

// dlc-fuse forms only groups an emitter covers (a pool whose windows leave
// gaps stays out of the convolution: test/Transforms/fuse.mlir; an LSTM of
// any width has a kernel: cuda-recurrent.mlir). A group formed otherwise
// that no emitter covers is an error at its location, not a crash.
func.func @lstm_then_relu(%x: tensor<2x3x8xf32>, %k: tensor<8x16xf32>, %r: tensor<4x16xf32>) -> tensor<2x4xf32> {
  // expected-error@+1 {{no CUDA code generation for the kernel group 'lstm+relu'}}
  %y = dl.fused "lstm+relu"(%x, %k, %r) : (tensor<2x3x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<2x3x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>):
    %h = dl.lstm %a, %b, %c : (tensor<2x3x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<2x4xf32>
    %o = dl.relu %h : (tensor<2x4xf32>) -> tensor<2x4xf32>
    dl.yield %o : tensor<2x4xf32>
  }
  return %y : tensor<2x4xf32>
}
