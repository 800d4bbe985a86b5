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
  func.func @conv_relu_pool(%x: tensor<3x11x11x3xf32>, %k: tensor<3x3x3x70xf32>, %b: tensor<70xf32>) -> (tensor<3x9x9x70xf32>, tensor<3x4x4x70xf32>) {
    %c = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<3x11x11x3xf32>, tensor<3x3x3x70xf32>, tensor<70xf32>) -> tensor<3x9x9x70xf32>
    %r = dl.relu %c : (tensor<3x9x9x70xf32>) -> tensor<3x9x9x70xf32>
    %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<3x9x9x70xf32>) -> tensor<3x4x4x70xf32>
    return %r, %p : tensor<3x9x9x70xf32>, tensor<3x4x4x70xf32>
  }
  func.func @conv_pool_overlapping(%x: tensor<2x10x10x4xf32>, %k: tensor<3x3x4x6xf32>, %b: tensor<6xf32>) -> tensor<2x5x5x6xf32> {
    %c = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<2x10x10x4xf32>, tensor<3x3x4x6xf32>, tensor<6xf32>) -> tensor<2x10x10x6xf32>
    %r = dl.tanh %c : (tensor<2x10x10x6xf32>) -> tensor<2x10x10x6xf32>
    %p = dl.avg_pool2d %r {padding = #dl<padding same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<2x10x10x6xf32>) -> tensor<2x5x5x6xf32>
    return %p : tensor<2x5x5x6xf32>
  }
  func.func @max_pool_grad_chain(%y: tensor<2x9x9x5xf32>, %dy: tensor<2x4x4x5xf32>) -> (tensor<2x9x9x5xf32>, tensor<5xf32>) {
    %g = dl.max_pool2d_grad %y, %dy {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x9x9x5xf32>, tensor<2x4x4x5xf32>) -> tensor<2x9x9x5xf32>
    %r = dl.relu_grad %y, %g : (tensor<2x9x9x5xf32>, tensor<2x9x9x5xf32>) -> tensor<2x9x9x5xf32>
    %db = dl.bias_grad %r : (tensor<2x9x9x5xf32>) -> tensor<5xf32>
    return %r, %db : tensor<2x9x9x5xf32>, tensor<5xf32>
  }
  func.func @max_pool_same_grad(%y: tensor<2x7x8x3xf32>, %dy: tensor<2x4x4x3xf32>) -> tensor<2x7x8x3xf32> {
    %g = dl.max_pool2d_grad %y, %dy {padding = #dl<padding same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<2x7x8x3xf32>, tensor<2x4x4x3xf32>) -> tensor<2x7x8x3xf32>
    return %g : tensor<2x7x8x3xf32>
  }
  func.func @avg_pool_grad(%dy: tensor<2x4x4x3xf32>) -> tensor<2x7x8x3xf32> {
    %g = dl.avg_pool2d_grad %dy {padding = #dl<padding same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<2x4x4x3xf32>) -> tensor<2x7x8x3xf32>
    return %g : tensor<2x7x8x3xf32>
  }
  func.func @max_pool_same(%x: tensor<2x7x8x3xf32>) -> tensor<2x4x4x3xf32> {
    %p = dl.max_pool2d %x {padding = #dl<padding same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<2x7x8x3xf32>) -> tensor<2x4x4x3xf32>
    return %p : tensor<2x4x4x3xf32>
  }
  func.func @global_pools(%x: tensor<3x5x6x7xf32>) -> tensor<3x7xf32> {
    %p = dl.global_avg_pool2d %x : (tensor<3x5x6x7xf32>) -> tensor<3x7xf32>
    return %p : tensor<3x7xf32>
  }
  func.func @global_pool_grads(%x: tensor<3x5x6x7xf32>, %dy: tensor<3x7xf32>) -> (tensor<3x5x6x7xf32>, tensor<3x5x6x7xf32>) {
    %a = dl.global_max_pool2d_grad %x, %dy : (tensor<3x5x6x7xf32>, tensor<3x7xf32>) -> tensor<3x5x6x7xf32>
    %b = dl.global_avg_pool2d_grad %dy : (tensor<3x7xf32>) -> tensor<3x5x6x7xf32>
    return %a, %b : tensor<3x5x6x7xf32>, tensor<3x5x6x7xf32>
  }
  func.func @dense_wide_softmax(%x: tensor<70x33xf32>, %k: tensor<33x150xf32>, %b: tensor<150xf32>) -> tensor<70x150xf32> {
    %d = dl.dense %x, %k, %b : (tensor<70x33xf32>, tensor<33x150xf32>, tensor<150xf32>) -> tensor<70x150xf32>
    %s = dl.softmax %d {axis = -1 : i64} : (tensor<70x150xf32>) -> tensor<70x150xf32>
    return %s : tensor<70x150xf32>
  }
  func.func @dense_grad_chain(%dy: tensor<50x30xf32>, %k: tensor<40x30xf32>, %y: tensor<50x40xf32>) -> (tensor<50x40xf32>, tensor<40xf32>) {
    %dx = dl.dense_grad_input %dy, %k : (tensor<50x30xf32>, tensor<40x30xf32>) -> tensor<50x40xf32>
    %g = dl.relu_grad %y, %dx : (tensor<50x40xf32>, tensor<50x40xf32>) -> tensor<50x40xf32>
    %db = dl.bias_grad %g : (tensor<50x40xf32>) -> tensor<40xf32>
    return %g, %db : tensor<50x40xf32>, tensor<40xf32>
  }
  func.func @lstm_last(%x: tensor<5x4x7xf32>, %k: tensor<7x24xf32>, %r: tensor<6x24xf32>, %b: tensor<24xf32>) -> tensor<5x6xf32> {
    %h = dl.lstm %x, %k, %r, %b : (tensor<5x4x7xf32>, tensor<7x24xf32>, tensor<6x24xf32>, tensor<24xf32>) -> tensor<5x6xf32>
    return %h : tensor<5x6xf32>
  }
  func.func @lstm_sequences(%x: tensor<3x5x4xf32>, %k: tensor<4x100xf32>, %r: tensor<25x100xf32>) -> tensor<3x5x25xf32> {
    %h = dl.lstm %x, %k, %r {return_sequences} : (tensor<3x5x4xf32>, tensor<4x100xf32>, tensor<25x100xf32>) -> tensor<3x5x25xf32>
    return %h : tensor<3x5x25xf32>
  }
  func.func @lstm_grad_last(%x: tensor<3x4x7xf32>, %k: tensor<7x24xf32>, %r: tensor<6x24xf32>, %b: tensor<24xf32>, %dy: tensor<3x6xf32>) -> (tensor<3x4x7xf32>, tensor<7x24xf32>, tensor<6x24xf32>, tensor<24xf32>) {
    %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, bias %b, %dy : (tensor<3x4x7xf32>, tensor<7x24xf32>, tensor<6x24xf32>, tensor<24xf32>, tensor<3x6xf32>) -> (tensor<3x4x7xf32>, tensor<7x24xf32>, tensor<6x24xf32>, tensor<24xf32>)
    return %dx, %dk, %dr, %db : tensor<3x4x7xf32>, tensor<7x24xf32>, tensor<6x24xf32>, tensor<24xf32>
  }
  func.func @lstm_grad_sequences(%x: tensor<2x5x4xf32>, %k: tensor<4x100xf32>, %r: tensor<25x100xf32>, %dy: tensor<2x5x25xf32>) -> (tensor<2x5x4xf32>, tensor<4x100xf32>, tensor<25x100xf32>) {
    %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy {return_sequences} : (tensor<2x5x4xf32>, tensor<4x100xf32>, tensor<25x100xf32>, tensor<2x5x25xf32>) -> (tensor<2x5x4xf32>, tensor<4x100xf32>, tensor<25x100xf32>, tensor<100xf32>)
    return %dx, %dk, %dr : tensor<2x5x4xf32>, tensor<4x100xf32>, tensor<25x100xf32>
  }
  func.func @bias_grad_alone(%dy: tensor<40x9xf32>) -> tensor<9xf32> {
    %db = dl.bias_grad %dy : (tensor<40x9xf32>) -> tensor<9xf32>
    return %db : tensor<9xf32>
  }
  func.func @concat_slice(%a: tensor<3x4x5xf32>, %b: tensor<3x2x5xf32>, %c: tensor<3x7x5xf32>) -> (tensor<3x6x5xf32>, tensor<3x3x5xf32>) {
    %j = dl.concat %a, %b {axis = 1 : i64} : (tensor<3x4x5xf32>, tensor<3x2x5xf32>) -> tensor<3x6x5xf32>
    %s = dl.slice %c {axis = 1 : i64, start = 2 : i64} : (tensor<3x7x5xf32>) -> tensor<3x3x5xf32>
    return %j, %s : tensor<3x6x5xf32>, tensor<3x3x5xf32>
  }
  func.func @softmax_middle_axis(%x: tensor<3x37x4xf32>, %y: tensor<5x70xf32>, %dy: tensor<5x70xf32>) -> (tensor<3x37x4xf32>, tensor<5x70xf32>) {
    %s = dl.softmax %x {axis = 1 : i64} : (tensor<3x37x4xf32>) -> tensor<3x37x4xf32>
    %g = dl.softmax_grad %y, %dy {axis = -1 : i64} : (tensor<5x70xf32>, tensor<5x70xf32>) -> tensor<5x70xf32>
    return %s, %g : tensor<3x37x4xf32>, tensor<5x70xf32>
  }
  func.func @batch_norm_training(%x: tensor<6x5x4x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> (tensor<6x5x4x3xf32>, tensor<3xf32>, tensor<3xf32>) {
    %y = dl.batch_norm %x, %g, %b, %m, %v {axis = -1 : i64, momentum = 0.9 : f64, epsilon = 1.0e-3 : f64, training, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<6x5x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<6x5x4x3xf32>
    %nm, %nv = dl.batch_norm_statistics_update %x, %m, %v {axis = -1 : i64, momentum = 0.9 : f64} : (tensor<6x5x4x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
    return %y, %nm, %nv : tensor<6x5x4x3xf32>, tensor<3xf32>, tensor<3xf32>
  }
  func.func @batch_norm_inference(%x: tensor<3x7x6xf32>, %m: tensor<7xf32>, %v: tensor<7xf32>, %dy: tensor<3x7x6xf32>, %g: tensor<7xf32>) -> (tensor<3x7x6xf32>, tensor<3x7x6xf32>) {
    %y = dl.batch_norm %x, %m, %v {axis = 1 : i64, momentum = 0.9 : f64, epsilon = 1.0e-3 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<3x7x6xf32>, tensor<7xf32>, tensor<7xf32>) -> tensor<3x7x6xf32>
    %dx = dl.batch_norm_inference_grad %dy, %g, %v {axis = 1 : i64, epsilon = 1.0e-3 : f64} : (tensor<3x7x6xf32>, tensor<7xf32>, tensor<7xf32>) -> tensor<3x7x6xf32>
    return %y, %dx : tensor<3x7x6xf32>, tensor<3x7x6xf32>
  }
  func.func @batch_norm_grad(%x: tensor<300x5xf32>, %g: tensor<5xf32>, %dy: tensor<300x5xf32>) -> (tensor<300x5xf32>, tensor<5xf32>, tensor<5xf32>) {
    %dx, %dg, %db = dl.batch_norm_grad %x, %g, %dy {axis = -1 : i64, epsilon = 1.0e-3 : f64} : (tensor<300x5xf32>, tensor<5xf32>, tensor<300x5xf32>) -> (tensor<300x5xf32>, tensor<5xf32>, tensor<5xf32>)
    return %dx, %dg, %db : tensor<300x5xf32>, tensor<5xf32>, tensor<5xf32>
  }
  func.func @losses(%p: tensor<9x6xf32>, %y: tensor<9x6xf32>) -> (tensor<f32>, tensor<f32>, tensor<9x6xf32>, tensor<6xf32>) {
    %a = dl.loss %p, %y {config = #dl.config<"mse", {}>} : (tensor<9x6xf32>, tensor<9x6xf32>) -> tensor<f32>
    %b = dl.loss %p, %y {config = #dl.config<"binary_crossentropy", {from_logits = true, label_smoothing = 0.2 : f64}>} : (tensor<9x6xf32>, tensor<9x6xf32>) -> tensor<f32>
    %c = dl.loss_grad %p, %y {config = #dl.config<"mse", {}>} : (tensor<9x6xf32>, tensor<9x6xf32>) -> tensor<9x6xf32>
    %d = dl.loss_grad %p, %y {config = #dl.config<"binary_crossentropy", {from_logits = true, label_smoothing = 0.2 : f64}>} : (tensor<9x6xf32>, tensor<9x6xf32>) -> tensor<9x6xf32>
    %e = dl.bias_grad %d : (tensor<9x6xf32>) -> tensor<6xf32>
    return %a, %b, %c, %e : tensor<f32>, tensor<f32>, tensor<9x6xf32>, tensor<6xf32>
  }
  func.func @losses_on_probabilities(%p: tensor<9x6xf32>, %y: tensor<9x6xf32>, %ids: tensor<9xi32>) -> (tensor<f32>, tensor<9x6xf32>, tensor<f32>, tensor<9x6xf32>, tensor<f32>, tensor<9x6xf32>) {
    %a = dl.loss %p, %y {config = #dl.config<"binary_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>} : (tensor<9x6xf32>, tensor<9x6xf32>) -> tensor<f32>
    %b = dl.loss_grad %p, %y {config = #dl.config<"binary_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>} : (tensor<9x6xf32>, tensor<9x6xf32>) -> tensor<9x6xf32>
    %c = dl.loss %p, %y {config = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.1 : f64}>} : (tensor<9x6xf32>, tensor<9x6xf32>) -> tensor<f32>
    %d = dl.loss_grad %p, %y {config = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.1 : f64}>} : (tensor<9x6xf32>, tensor<9x6xf32>) -> tensor<9x6xf32>
    %e = dl.loss %p, %ids {config = #dl.config<"sparse_categorical_crossentropy", {from_logits = false}>} : (tensor<9x6xf32>, tensor<9xi32>) -> tensor<f32>
    %f = dl.loss_grad %p, %ids {config = #dl.config<"sparse_categorical_crossentropy", {from_logits = false}>} : (tensor<9x6xf32>, tensor<9xi32>) -> tensor<9x6xf32>
    return %a, %b, %c, %d, %e, %f : tensor<f32>, tensor<9x6xf32>, tensor<f32>, tensor<9x6xf32>, tensor<f32>, tensor<9x6xf32>
  }
  func.func @zeros() -> tensor<5x3xf32> {
    %z = dl.zeros : tensor<5x3xf32>
    return %z : tensor<5x3xf32>
  }
  func.func @chain_vectorized(%y: tensor<36x20xf32>, %dy: tensor<36x20xf32>, %b: tensor<36x20xf32>) -> (tensor<36x20xf32>, tensor<36x20xf32>) {
    %g = dl.relu_grad %y, %dy : (tensor<36x20xf32>, tensor<36x20xf32>) -> tensor<36x20xf32>
    %s = dl.add %g, %b : (tensor<36x20xf32>, tensor<36x20xf32>) -> tensor<36x20xf32>
    %d = dl.dropout %s {rate = 0.25 : f64, seed = 5 : i64, training} : (tensor<36x20xf32>) -> tensor<36x20xf32>
    return %s, %d : tensor<36x20xf32>, tensor<36x20xf32>
  }
  // Casts: the reference rounds with frexp/ldexp, the kernels with integer
  // code; the results must be equal to the bit (EmulatedKernelsTest).
  // Tensor cores: products of 16-bit operands run as WMMA with f32
  // accumulators (ragged sizes: partial tiles in every dimension, several
  // K steps). A 16-bit result may differ by a rounding flip (f32 sums in
  // another order); an f32 result only by accumulation order.
  func.func @dense_relu_tensor_cores_f16(%x: tensor<70x40xf16>, %k: tensor<40x90xf16>, %b: tensor<90xf16>) -> tensor<70x90xf16> {
    %d = dl.dense %x, %k, %b : (tensor<70x40xf16>, tensor<40x90xf16>, tensor<90xf16>) -> tensor<70x90xf16>
    %r = dl.relu %d : (tensor<70x90xf16>) -> tensor<70x90xf16>
    return %r : tensor<70x90xf16>
  }
  func.func @dense_grad_kernel_tensor_cores_bf16(%x: tensor<50x40xbf16>, %dy: tensor<50x30xbf16>) -> tensor<40x30xf32> {
    %dk = dl.dense_grad_kernel %x, %dy : (tensor<50x40xbf16>, tensor<50x30xbf16>) -> tensor<40x30xf32>
    return %dk : tensor<40x30xf32>
  }
  func.func @conv_pool_tensor_cores_bf16(%x: tensor<2x10x10x5xbf16>, %k: tensor<3x3x5x20xbf16>, %b: tensor<20xbf16>) -> tensor<2x4x4x20xbf16> {
    %y = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<2x10x10x5xbf16>, tensor<3x3x5x20xbf16>, tensor<20xbf16>) -> tensor<2x8x8x20xbf16>
    %p = dl.max_pool2d %y {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x8x8x20xbf16>) -> tensor<2x4x4x20xbf16>
    return %p : tensor<2x4x4x20xbf16>
  }
  func.func @cast_f32_to_f16(%x: tensor<37x19xf32>) -> tensor<37x19xf16> {
    %y = dl.cast %x {to = f16} : (tensor<37x19xf32>) -> tensor<37x19xf16>
    return %y : tensor<37x19xf16>
  }
  func.func @cast_f32_to_bf16(%x: tensor<37x19xf32>) -> tensor<37x19xbf16> {
    %y = dl.cast %x {to = bf16} : (tensor<37x19xf32>) -> tensor<37x19xbf16>
    return %y : tensor<37x19xbf16>
  }
  func.func @cast_f16_to_f32(%x: tensor<300x13xf16>) -> tensor<300x13xf32> {
    %y = dl.cast %x {to = f32} : (tensor<300x13xf16>) -> tensor<300x13xf32>
    return %y : tensor<300x13xf32>
  }
  func.func @cast_bf16_to_f64(%x: tensor<300x13xbf16>) -> tensor<300x13xf64> {
    %y = dl.cast %x {to = f64} : (tensor<300x13xbf16>) -> tensor<300x13xf64>
    return %y : tensor<300x13xf64>
  }
  func.func @cast_f64_to_bf16(%x: tensor<41x7xf64>) -> tensor<41x7xbf16> {
    %y = dl.cast %x {to = bf16} : (tensor<41x7xf64>) -> tensor<41x7xbf16>
    return %y : tensor<41x7xbf16>
  }
  func.func @cast_i32_to_f32(%x: tensor<41x7xi32>) -> tensor<41x7xf32> {
    %y = dl.cast %x {to = f32} : (tensor<41x7xi32>) -> tensor<41x7xf32>
    return %y : tensor<41x7xf32>
  }
  // Evaluation: each example's loss and metric scores (a threshold of 0 as
  // train_step uses on logits).
  func.func @example_loss_sparse(%p: tensor<37x11xf32>, %y: tensor<37xi32>) -> tensor<37xf32> {
    %l = dl.example_loss %p, %y {config = #dl.config<"sparse_categorical_crossentropy", {from_logits = true}>} : (tensor<37x11xf32>, tensor<37xi32>) -> tensor<37xf32>
    return %l : tensor<37xf32>
  }
  func.func @metric_top_k_sparse(%p: tensor<300x7xf32>, %y: tensor<300xi32>) -> tensor<300xf32> {
    %s = dl.metric %p, %y {k = 2 : i64, rule = "top_k", threshold = 5.0e-01 : f64} : (tensor<300x7xf32>, tensor<300xi32>) -> tensor<300xf32>
    return %s : tensor<300xf32>
  }
  func.func @metric_binary_logits(%p: tensor<41x3xf32>, %y: tensor<41x3xf32>) -> tensor<41xf32> {
    %s = dl.metric %p, %y {k = 1 : i64, rule = "binary", threshold = 0.0 : f64} : (tensor<41x3xf32>, tensor<41x3xf32>) -> tensor<41xf32>
    return %s : tensor<41xf32>
  }
  // A sequence of predictions: each example's mean over its 9 positions.
  func.func @example_loss_sequence(%p: tensor<13x9x5xf32>, %y: tensor<13x9x5xf32>) -> tensor<13xf32> {
    %l = dl.example_loss %p, %y {config = #dl.config<"categorical_crossentropy", {from_logits = true, label_smoothing = 0.1 : f64}>} : (tensor<13x9x5xf32>, tensor<13x9x5xf32>) -> tensor<13xf32>
    return %l : tensor<13xf32>
  }
  func.func @metric_top_1_sequence(%p: tensor<13x9x5xf32>, %y: tensor<13x9xi32>) -> tensor<13xf32> {
    %s = dl.metric %p, %y {k = 1 : i64, rule = "top_k", threshold = 5.0e-01 : f64} : (tensor<13x9x5xf32>, tensor<13x9xi32>) -> tensor<13xf32>
    return %s : tensor<13xf32>
  }
  // f64 chains compute in double (the type table's other arithmetic): the
  // test asks them to match the reference to 1e-12, beyond float's reach.
  func.func @chain_f64(%y: tensor<36x20xf64>, %dy: tensor<36x20xf64>, %b: tensor<36x20xf64>) -> (tensor<36x20xf64>, tensor<36x20xf64>, tensor<36x20xf64>) {
    %g = dl.relu_grad %y, %dy : (tensor<36x20xf64>, tensor<36x20xf64>) -> tensor<36x20xf64>
    %s = dl.add %g, %b : (tensor<36x20xf64>, tensor<36x20xf64>) -> tensor<36x20xf64>
    %t = dl.tanh %s : (tensor<36x20xf64>) -> tensor<36x20xf64>
    %e = dl.gelu %t : (tensor<36x20xf64>) -> tensor<36x20xf64>
    %a = dl.gelu %s {approximate} : (tensor<36x20xf64>) -> tensor<36x20xf64>
    %l = dl.leaky_relu %a {negative_slope = 0.1 : f64} : (tensor<36x20xf64>) -> tensor<36x20xf64>
    %q = dl.sigmoid %l : (tensor<36x20xf64>) -> tensor<36x20xf64>
    return %s, %e, %q : tensor<36x20xf64>, tensor<36x20xf64>, tensor<36x20xf64>
  }
  func.func @chain_bias_f64(%y: tensor<300x13xf64>, %dy: tensor<300x13xf64>) -> (tensor<300x13xf64>, tensor<13xf64>) {
    %g = dl.gelu_grad %y, %dy {approximate} : (tensor<300x13xf64>, tensor<300x13xf64>) -> tensor<300x13xf64>
    %db = dl.bias_grad %g : (tensor<300x13xf64>) -> tensor<13xf64>
    return %g, %db : tensor<300x13xf64>, tensor<13xf64>
  }
  func.func @pools_f64(%x: tensor<2x7x8x3xf64>, %dy: tensor<2x4x4x3xf64>) -> (tensor<2x4x4x3xf64>, tensor<2x7x8x3xf64>) {
    %p = dl.max_pool2d %x {padding = #dl<padding same>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x7x8x3xf64>) -> tensor<2x4x4x3xf64>
    %g = dl.avg_pool2d_grad %dy {padding = #dl<padding same>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x4x4x3xf64>) -> tensor<2x7x8x3xf64>
    return %p, %g : tensor<2x4x4x3xf64>, tensor<2x7x8x3xf64>
  }
}
