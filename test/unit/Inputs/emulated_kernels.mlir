// Each function becomes exactly one dl.fused group; EmulatedKernelsTest runs
// the CUDA kernel emitted for it under the emulation and compares its results
// with the reference evaluator on the same function. Sizes are ragged and
// large enough for several blocks, tiles and K-loop trips.
module {
  func.func @chain(%y: tensor<37x19xf32>, %dy: tensor<37x19xf32>, %b: tensor<37x19xf32>) -> (tensor<37x19xf32>, tensor<37x19xf32>) {
    %g = dl.relu_grad %y, %dy : (tensor<37x19xf32>, tensor<37x19xf32>) -> tensor<37x19xf32>
    %s = dl.add %g, %b : (tensor<37x19xf32>, tensor<37x19xf32>) -> tensor<37x19xf32>
    %t = dl.tanh %s : (tensor<37x19xf32>) -> tensor<37x19xf32>
    return %s, %t : tensor<37x19xf32>, tensor<37x19xf32>
  }
  func.func @chain_bias(%y: tensor<300x13xf32>, %dy: tensor<300x13xf32>) -> (tensor<300x13xf32>, tensor<13xf32>) {
    %g = dl.relu_grad %y, %dy : (tensor<300x13xf32>, tensor<300x13xf32>) -> tensor<300x13xf32>
    %db = dl.bias_grad %g : (tensor<300x13xf32>) -> tensor<13xf32>
    return %g, %db : tensor<300x13xf32>, tensor<13xf32>
  }
  func.func @dense_relu(%x: tensor<130x40xf32>, %k: tensor<40x70xf32>, %b: tensor<70xf32>) -> tensor<130x70xf32> {
    %d = dl.dense %x, %k, %b : (tensor<130x40xf32>, tensor<40x70xf32>, tensor<70xf32>) -> tensor<130x70xf32>
    %r = dl.relu %d : (tensor<130x70xf32>) -> tensor<130x70xf32>
    return %r : tensor<130x70xf32>
  }
  func.func @dense_softmax(%x: tensor<70x33xf32>, %k: tensor<33x10xf32>, %b: tensor<10xf32>) -> tensor<70x10xf32> {
    %d = dl.dense %x, %k, %b : (tensor<70x33xf32>, tensor<33x10xf32>, tensor<10xf32>) -> tensor<70x10xf32>
    %s = dl.softmax %d {axis = -1 : i64} : (tensor<70x10xf32>) -> tensor<70x10xf32>
    return %s : tensor<70x10xf32>
  }
  func.func @dense_grads(%x: tensor<50x40xf32>, %dy: tensor<50x30xf32>, %k: tensor<40x30xf32>) -> (tensor<50x40xf32>, tensor<40x30xf32>) {
    %dx = dl.dense_grad_input %dy, %k : (tensor<50x30xf32>, tensor<40x30xf32>) -> tensor<50x40xf32>
    %dk = dl.dense_grad_kernel %x, %dy : (tensor<50x40xf32>, tensor<50x30xf32>) -> tensor<40x30xf32>
    return %dx, %dk : tensor<50x40xf32>, tensor<40x30xf32>
  }
  func.func @conv_same(%x: tensor<2x9x7x3xf32>, %k: tensor<3x3x3x5xf32>, %b: tensor<5xf32>) -> tensor<2x9x7x5xf32> {
    %y = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<2x9x7x3xf32>, tensor<3x3x3x5xf32>, tensor<5xf32>) -> tensor<2x9x7x5xf32>
    return %y : tensor<2x9x7x5xf32>
  }
  func.func @conv_grads(%x: tensor<2x9x8x3xf32>, %dy: tensor<2x5x4x6xf32>, %k: tensor<3x3x3x6xf32>) -> (tensor<2x9x8x3xf32>, tensor<3x3x3x6xf32>) {
    %dx = dl.conv2d_grad_input %dy, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 2, 2>} : (tensor<2x5x4x6xf32>, tensor<3x3x3x6xf32>) -> tensor<2x9x8x3xf32>
    %dk = dl.conv2d_grad_kernel %x, %dy {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 2, 2>} : (tensor<2x9x8x3xf32>, tensor<2x5x4x6xf32>) -> tensor<3x3x3x6xf32>
    return %dx, %dk : tensor<2x9x8x3xf32>, tensor<3x3x3x6xf32>
  }
  func.func @loss(%z: tensor<19x10xf32>, %y: tensor<19x10xf32>) -> tensor<f32> {
    %l = dl.loss %z, %y {config = #dl.config<"categorical_crossentropy", {from_logits = true, label_smoothing = 0.1 : f64}>} : (tensor<19x10xf32>, tensor<19x10xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
  func.func @loss_grad(%z: tensor<19x10xf32>, %y: tensor<19x10xf32>) -> (tensor<19x10xf32>, tensor<10xf32>) {
    %g = dl.loss_grad %z, %y {config = #dl.config<"categorical_crossentropy", {from_logits = true, label_smoothing = 0.0 : f64}>} : (tensor<19x10xf32>, tensor<19x10xf32>) -> tensor<19x10xf32>
    %db = dl.bias_grad %g : (tensor<19x10xf32>) -> tensor<10xf32>
    return %g, %db : tensor<19x10xf32>, tensor<10xf32>
  }
}
