// RUN: dlc-opt %s -split-input-file -verify-diagnostics

// Shape-function errors carry the layer name; MLIR's InferTypeOpInterface
// verifier then adds "failed to infer returned types" at the same op.

// Tests that conv2d wants an NHWC input.
func.func @conv2d_input_rank(%x: tensor<?x28x28xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: expected an NHWC input of rank 4, got tensor<?x28x28xf32>}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that conv2d wants a rank-4 kernel.
func.func @conv2d_kernel_rank(%x: tensor<?x28x28x1xf32>, %k: tensor<3x1x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: expected a kernel [kh, kw, in, out] of rank 4, got tensor<3x1x8xf32>}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x1x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that the kernel's input channels must match the input's.
func.func @conv2d_channels(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x3x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: kernel input channels is 3 but must be 1}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x3x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that the bias has one value per filter.
func.func @conv2d_bias_size(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>, %b: tensor<16xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: bias size is 16 but must be 8}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>, tensor<16xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that the bias is a vector.
func.func @conv2d_bias_rank(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>, %b: tensor<1x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: expected a bias of rank 1, got tensor<1x8xf32>}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>, tensor<1x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that input and kernel share one element type.
func.func @conv2d_element_type(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf16>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: kernel has element type f16 but the input has f32}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf16>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that strides have exactly two values.
func.func @conv2d_strides_length(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: strides must have 2 values (height, width), got 3}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that the dilation is positive.
func.func @conv2d_dilation_zero(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: dilation must be positive, got [0, 1]}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 0, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that a valid window may not be taller than the input.
func.func @conv2d_window_too_big(%x: tensor<?x2x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: input height 2 is smaller than the window 3 with valid padding}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x2x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that dilation widens the window: 2 * (3 - 1) + 1 = 5 > 4.
func.func @conv2d_dilated_window_too_big(%x: tensor<?x28x4x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{conv2d: input width 4 is smaller than the window 5 with valid padding}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 2, 2>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x4x1xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that a pool size has two values.
func.func @max_pool2d_pool_size_length(%x: tensor<?x26x26x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{max_pool2d: pool size must have 2 values (height, width), got 1}}
  // expected-error@+1 {{'dl.max_pool2d' op failed to infer returned types}}
  %y = dl.max_pool2d %x {padding = #dl<padding valid>, pool_size = array<i64: 2>, strides = array<i64: 2, 2>} : (tensor<?x26x26x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that pooling strides are positive.
func.func @avg_pool2d_negative_stride(%x: tensor<?x26x26x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{avg_pool2d: strides must be positive, got [-1, 2]}}
  // expected-error@+1 {{'dl.avg_pool2d' op failed to infer returned types}}
  %y = dl.avg_pool2d %x {padding = #dl<padding same>, pool_size = array<i64: 2, 2>, strides = array<i64: -1, 2>} : (tensor<?x26x26x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that a valid pooling window may not be wider than the input.
func.func @max_pool2d_window_too_big(%x: tensor<?x4x1x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{max_pool2d: input width 1 is smaller than the window 2 with valid padding}}
  // expected-error@+1 {{'dl.max_pool2d' op failed to infer returned types}}
  %y = dl.max_pool2d %x {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x1x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that global pooling wants an NHWC input.
func.func @global_avg_pool2d_rank(%x: tensor<?x20x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{global_avg_pool2d: expected an NHWC input of rank 4, got tensor<?x20x8xf32>}}
  // expected-error@+1 {{'dl.global_avg_pool2d' op failed to infer returned types}}
  %y = dl.global_avg_pool2d %x : (tensor<?x20x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that dense's kernel rows match the input features.
func.func @dense_kernel_input_size(%x: tensor<?x576xf32>, %k: tensor<10x64xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{dense: kernel input size is 10 but must be 576}}
  // expected-error@+1 {{'dl.dense' op failed to infer returned types}}
  %y = dl.dense %x, %k : (tensor<?x576xf32>, tensor<10x64xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that dense wants a batch and a feature axis.
func.func @dense_input_rank(%x: tensor<?xf32>, %k: tensor<10x64xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{dense: expected an input of rank 2 or more [N, ..., features], got tensor<?xf32>}}
  // expected-error@+1 {{'dl.dense' op failed to infer returned types}}
  %y = dl.dense %x, %k : (tensor<?xf32>, tensor<10x64xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that dense's bias has one value per unit.
func.func @dense_bias_size(%x: tensor<?x10xf32>, %k: tensor<10x64xf32>, %b: tensor<10xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{dense: bias size is 10 but must be 64}}
  // expected-error@+1 {{'dl.dense' op failed to infer returned types}}
  %y = dl.dense %x, %k, %b : (tensor<?x10xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that flatten needs a batch axis.
func.func @flatten_scalar(%x: tensor<f32>) -> tensor<*xf32> {
  // expected-error@+2 {{flatten: expected a batched input, got tensor<f32>}}
  // expected-error@+1 {{'dl.flatten' op failed to infer returned types}}
  %y = dl.flatten %x : (tensor<f32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that a reshape keeps the number of elements per example.
func.func @reshape_count(%x: tensor<?x3x3x64xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{reshape: cannot reshape 576 elements per example into 500}}
  // expected-error@+1 {{'dl.reshape' op failed to infer returned types}}
  %y = dl.reshape %x {shape = array<i64: 25, 20>} : (tensor<?x3x3x64xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that at most one target dimension is inferred.
func.func @reshape_two_inferred(%x: tensor<?x3x3x64xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{reshape: target shape may contain only one -1}}
  // expected-error@+1 {{'dl.reshape' op failed to infer returned types}}
  %y = dl.reshape %x {shape = array<i64: -1, 8, -1>} : (tensor<?x3x3x64xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that the inferred dimension must divide evenly.
func.func @reshape_not_divisible(%x: tensor<?x3x3x64xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{reshape: cannot reshape 576 elements into a multiple of 7}}
  // expected-error@+1 {{'dl.reshape' op failed to infer returned types}}
  %y = dl.reshape %x {shape = array<i64: 7, -1>} : (tensor<?x3x3x64xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that target dimensions other than -1 are positive.
func.func @reshape_zero_dim(%x: tensor<?x3x3x64xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{reshape: target shape dimensions must be positive or -1, got 0}}
  // expected-error@+1 {{'dl.reshape' op failed to infer returned types}}
  %y = dl.reshape %x {shape = array<i64: 0, -1>} : (tensor<?x3x3x64xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that dropping every element is rejected.
func.func @dropout_rate_one(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error@+2 {{dropout: rate must be in [0, 1), got 1}}
  // expected-error@+1 {{'dl.dropout' op failed to infer returned types}}
  %y = dl.dropout %x {rate = 1.0 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// Tests that batch_norm does not normalize along the batch.
func.func @batch_norm_axis_zero(%x: tensor<?x8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error@+2 {{batch_norm: cannot normalize along the batch axis}}
  // expected-error@+1 {{'dl.batch_norm' op failed to infer returned types}}
  %y = dl.batch_norm %x, %m, %v {axis = 0 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Tests that the batch_norm axis exists.
func.func @batch_norm_axis_range(%x: tensor<?x4x4x8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>) -> tensor<?x4x4x8xf32> {
  // expected-error@+2 {{batch_norm: axis 4 is out of range for rank 4}}
  // expected-error@+1 {{'dl.batch_norm' op failed to infer returned types}}
  %y = dl.batch_norm %x, %m, %v {axis = 4 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
  return %y : tensor<?x4x4x8xf32>
}

// -----

// Tests that the moving statistics have one value per channel of the axis.
func.func @batch_norm_stat_size(%x: tensor<?x4x4x8xf32>, %m: tensor<4xf32>, %v: tensor<8xf32>) -> tensor<?x4x4x8xf32> {
  // expected-error@+2 {{batch_norm: moving_mean size is 4 but must be 8}}
  // expected-error@+1 {{'dl.batch_norm' op failed to infer returned types}}
  %y = dl.batch_norm %x, %m, %v {axis = -1 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<4xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
  return %y : tensor<?x4x4x8xf32>
}

// -----

// Tests that the axis selects the channels: along axis 1 they are 4, so an
// 8-wide beta is wrong even though it matches the last axis.
func.func @batch_norm_beta_size(%x: tensor<?x4x4x8xf32>, %b: tensor<8xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<?x4x4x8xf32> {
  // expected-error@+2 {{batch_norm: beta size is 8 but must be 4}}
  // expected-error@+1 {{'dl.batch_norm' op failed to infer returned types}}
  %y = dl.batch_norm %x, %b, %m, %v {axis = 1 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 0, 1, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x4x8xf32>
  return %y : tensor<?x4x4x8xf32>
}

// -----

// Tests that epsilon is positive.
func.func @batch_norm_epsilon(%x: tensor<?x8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error@+2 {{batch_norm: epsilon must be greater than 0, got 0}}
  // expected-error@+1 {{'dl.batch_norm' op failed to infer returned types}}
  %y = dl.batch_norm %x, %m, %v {axis = -1 : i64, epsilon = 0.0 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Tests that the momentum is a fraction.
func.func @batch_norm_momentum(%x: tensor<?x8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error@+2 {{batch_norm: momentum must be in [0, 1], got 1.5}}
  // expected-error@+1 {{'dl.batch_norm' op failed to infer returned types}}
  %y = dl.batch_norm %x, %m, %v {axis = -1 : i64, epsilon = 1.000000e-03 : f64, momentum = 1.5 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Tests that the custom form of batch_norm needs operandSegmentSizes spelled
// out: `operands` alone cannot tell gamma and beta apart.
func.func @batch_norm_no_segments(%x: tensor<?x8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error@+1 {{'dl.batch_norm' op operand count (3) does not match with the total size (0) specified in attribute 'operandSegmentSizes'}}
  %y = dl.batch_norm %x, %m, %v {axis = -1 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Tests that embedding ids must be integers (the ODS operand constraint).
func.func @embedding_float_ids(%x: tensor<?x20xf32>, %t: tensor<100x4xf32>) -> tensor<?x20x4xf32> {
  // expected-error@+1 {{'dl.embedding' op operand #0 must be tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?x20xf32>'}}
  %y = dl.embedding %x, %t : (tensor<?x20xf32>, tensor<100x4xf32>) -> tensor<?x20x4xf32>
  return %y : tensor<?x20x4xf32>
}

// -----

// Tests that the embedding table is a matrix.
func.func @embedding_table_rank(%x: tensor<?x20xi32>, %t: tensor<100xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{embedding: expected a table [input_dim, output_dim] of rank 2, got tensor<100xf32>}}
  // expected-error@+1 {{'dl.embedding' op failed to infer returned types}}
  %y = dl.embedding %x, %t : (tensor<?x20xi32>, tensor<100xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that the lstm kernel has 4 * units columns (units = 4 from the
// recurrent kernel).
func.func @lstm_kernel_gates(%x: tensor<?x20x8xf32>, %k: tensor<8x12xf32>, %r: tensor<4x16xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{lstm: kernel gate size (4*units) is 12 but must be 16}}
  // expected-error@+1 {{'dl.lstm' op failed to infer returned types}}
  %y = dl.lstm %x, %k, %r : (tensor<?x20x8xf32>, tensor<8x12xf32>, tensor<4x16xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that the recurrent kernel is square in units: [units, 4 * units].
func.func @lstm_recurrent_gates(%x: tensor<?x20x8xf32>, %k: tensor<8x16xf32>, %r: tensor<4x12xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{lstm: recurrent kernel gate size (4*units) is 12 but must be 16}}
  // expected-error@+1 {{'dl.lstm' op failed to infer returned types}}
  %y = dl.lstm %x, %k, %r : (tensor<?x20x8xf32>, tensor<8x16xf32>, tensor<4x12xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that the lstm bias holds the four gates.
func.func @lstm_bias_size(%x: tensor<?x20x8xf32>, %k: tensor<8x16xf32>, %r: tensor<4x16xf32>, %b: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{lstm: bias size is 4 but must be 16}}
  // expected-error@+1 {{'dl.lstm' op failed to infer returned types}}
  %y = dl.lstm %x, %k, %r, %b : (tensor<?x20x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that lstm wants [N, timesteps, features].
func.func @lstm_input_rank(%x: tensor<?x8xf32>, %k: tensor<8x16xf32>, %r: tensor<4x16xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{lstm: expected an input [N, timesteps, features] of rank 3, got tensor<?x8xf32>}}
  // expected-error@+1 {{'dl.lstm' op failed to infer returned types}}
  %y = dl.lstm %x, %k, %r : (tensor<?x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that a negative softmax axis is checked against the rank as well.
func.func @softmax_axis(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-error@+2 {{softmax: axis -3 is out of range for rank 2}}
  // expected-error@+1 {{'dl.softmax' op failed to infer returned types}}
  %y = dl.softmax %x {axis = -3 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %y : tensor<?x10xf32>
}

// -----

// Tests that add's inputs have one shape.
func.func @add_shape(%a: tensor<?x8xf32>, %b: tensor<?x4xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{add: inputs must have one shape, got tensor<?x8xf32> and tensor<?x4xf32>}}
  // expected-error@+1 {{'dl.add' op failed to infer returned types}}
  %y = dl.add %a, %b : (tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that add needs two inputs.
func.func @add_one_input(%a: tensor<?x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{add: needs at least 2 inputs, got 1}}
  // expected-error@+1 {{'dl.add' op failed to infer returned types}}
  %y = dl.add %a : (tensor<?x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that add's inputs share an element type.
func.func @add_element_type(%a: tensor<?x8xf32>, %b: tensor<?x8xf16>) -> tensor<*xf32> {
  // expected-error@+2 {{add: an input has element type f16 but the input has f32}}
  // expected-error@+1 {{'dl.add' op failed to infer returned types}}
  %y = dl.add %a, %b : (tensor<?x8xf32>, tensor<?x8xf16>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that concat does not join along the batch.
func.func @concat_axis_zero(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{concat: cannot concatenate along the batch axis}}
  // expected-error@+1 {{'dl.concat' op failed to infer returned types}}
  %y = dl.concat %a, %b {axis = 0 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that concat's inputs agree outside the axis.
func.func @concat_mismatch(%a: tensor<?x4x32xf32>, %b: tensor<?x5x16xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{concat: inputs differ outside axis 2: tensor<?x4x32xf32> and tensor<?x5x16xf32>}}
  // expected-error@+1 {{'dl.concat' op failed to infer returned types}}
  %y = dl.concat %a, %b {axis = -1 : i64} : (tensor<?x4x32xf32>, tensor<?x5x16xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that concat's inputs have one rank.
func.func @concat_rank(%a: tensor<?x4x32xf32>, %b: tensor<?x32xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{concat: inputs must have one rank, got tensor<?x4x32xf32> and tensor<?x32xf32>}}
  // expected-error@+1 {{'dl.concat' op failed to infer returned types}}
  %y = dl.concat %a, %b {axis = -1 : i64} : (tensor<?x4x32xf32>, tensor<?x32xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that a written result contradicting the shape function is rejected
// by the InferTypeOpInterface verifier (26 is inferred, 27 written).
func.func @result_incompatible(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<?x27x26x8xf32> {
  // expected-error@+2 {{'dl.conv2d' op inferred type(s) 'tensor<?x26x26x8xf32>' are incompatible with return type(s) of operation 'tensor<?x27x26x8xf32>'}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x27x26x8xf32>
  return %y : tensor<?x27x26x8xf32>
}

// -----

// Tests that a result may be less refined, but not of another rank.
func.func @result_rank(%x: tensor<?x10xf32>) -> tensor<?x?x?xf32> {
  // expected-error@+2 {{'dl.relu' op inferred type(s) 'tensor<?x10xf32>' are incompatible with return type(s) of operation 'tensor<?x?x?xf32>'}}
  // expected-error@+1 {{'dl.relu' op failed to infer returned types}}
  %y = dl.relu %x : (tensor<?x10xf32>) -> tensor<?x?x?xf32>
  return %y : tensor<?x?x?xf32>
}

// -----

// Tests that a result may not change the element type.
func.func @result_element_type(%x: tensor<?x10xf32>) -> tensor<?x10xf16> {
  // expected-error@+2 {{'dl.tanh' op inferred type(s) 'tensor<?x10xf32>' are incompatible with return type(s) of operation 'tensor<?x10xf16>'}}
  // expected-error@+1 {{'dl.tanh' op failed to infer returned types}}
  %y = dl.tanh %x : (tensor<?x10xf32>) -> tensor<?x10xf16>
  return %y : tensor<?x10xf16>
}

// -----

// Tests that layers take float tensors only.
func.func @relu_integer(%x: tensor<?x10xi32>) -> tensor<?x10xi32> {
  // expected-error@+1 {{'dl.relu' op operand #0 must be tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<?x10xi32>'}}
  %y = dl.relu %x : (tensor<?x10xi32>) -> tensor<?x10xi32>
  return %y : tensor<?x10xi32>
}

// -----

// Tests that dl.weight names an existing parameter.
dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform
func.func @weight_unknown() -> tensor<4x2xf32> {
  // expected-error@+1 {{'dl.weight' op refers to unknown parameter @"dense/kernal"}}
  %k = dl.weight @"dense/kernal" : tensor<4x2xf32>
  return %k : tensor<4x2xf32>
}

// -----

// Tests that dl.weight has its parameter's type.
dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform
func.func @weight_type() -> tensor<2x4xf32> {
  // expected-error@+1 {{'dl.weight' op type 'tensor<2x4xf32>' does not match parameter @"dense/kernel" of type 'tensor<4x2xf32>'}}
  %k = dl.weight @"dense/kernel" : tensor<2x4xf32>
  return %k : tensor<2x4xf32>
}

// -----

// Tests that dl.weight only refers to parameters, not to other symbols.
func.func @weight_of_function() -> tensor<4x2xf32> {
  // expected-error@+1 {{'dl.weight' op refers to unknown parameter @weight_of_function}}
  %k = dl.weight @weight_of_function : tensor<4x2xf32>
  return %k : tensor<4x2xf32>
}

// -----

// Tests that parameters hold floats.
// expected-error@+1 {{'dl.param' op parameter must hold floats, got 'tensor<8xi32>'}}
dl.param @"emb/ids" : tensor<8xi32> init zeros

// -----

// Tests that parameters have a static shape (the ODS attribute constraint).
// expected-error@+1 {{'dl.param' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of any type values}}
dl.param @"dense/kernel" : tensor<?x8xf32> init glorot_uniform

// -----

// Tests that parameters live at module level.
func.func @param_in_function() {
  // expected-error@+1 {{'dl.param' op expects parent op 'builtin.module'}}
  dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform
  return
}

// -----

// Tests that a weights file, when given, is named.
// expected-error@+1 {{'dl.param' op weights file name must not be empty}}
dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform from ""

// -----

// Tests that the initializer is one of the known ones.
// expected-error@+1 {{unknown initializer 'xavier'}}
dl.param @"dense/kernel" : tensor<4x2xf32> init xavier

// -----

// Tests that the loss kind is checked against the catalog.
// expected-error@+1 {{'dl.train_setup' op unknown loss 'hinge'}}
dl.train_setup {
  loss = #dl.config<"hinge", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that optimizer options are checked by name (Keras spells it
// learning_rate).
// expected-error@+1 {{'dl.train_setup' op 'sgd' has no option 'lr'}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {lr = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that option values are checked against their range (beta_1 is in
// [0, 1)).
// expected-error@+1 {{'dl.train_setup' op option 'beta_1' of 'adam' must be in [0, 1), got 1}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"adam", {amsgrad = false, beta_1 = 1.0 : f64, beta_2 = 9.990000e-01 : f64, epsilon = 1.000000e-07 : f64, learning_rate = 1.000000e-03 : f64}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that every option is spelled out in the IR (the frontend fills the
// defaults).
// expected-error@+1 {{'dl.train_setup' op 'sgd' is missing option 'nesterov'}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that option values are checked by type.
// expected-error@+1 {{'dl.train_setup' op option 'nesterov' of 'sgd' must be true or false, got 1 : i64}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = 1 : i64}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that metrics are checked as well (k is at least 1).
// expected-error@+1 {{'dl.train_setup' op option 'k' of 'top_k_accuracy' must be at least 1, got 0}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [#dl.config<"accuracy", {}>, #dl.config<"top_k_accuracy", {k = 0 : i64}>],
  batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that the validation split is "test" or a fraction.
// expected-error@+1 {{'dl.train_setup' op validation must be "test" or a fraction, got "train"}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "train", shuffle = true}

// -----

// Tests that a validation fraction lies in (0, 1).
// expected-error@+1 {{'dl.train_setup' op validation fraction must be in (0, 1), got 1.5}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = 1.5 : f64, shuffle = true}

// -----

// Tests that a module has at most one training setup (the first one to be
// verified reports it).
// expected-error@+1 {{'dl.train_setup' op a module holds at most one training setup}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that data transforms are checked against the catalog.
// expected-error@+1 {{'dl.train_setup' op unknown data transform 'random_shear'}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [#dl.config<"rescale", {offset = 0.000000e+00 : f64, scale = 5.000000e-01 : f64}>, #dl.config<"random_shear", {}>],
  validation = "test", shuffle = true}

// -----

// Tests that word options take one of their words.
// expected-error@+1 {{'dl.train_setup' op option 'mode' of 'random_flip' must be one of horizontal, vertical, horizontal_and_vertical, got "diagonal"}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [#dl.config<"random_flip", {mode = "diagonal"}>],
  validation = "test", shuffle = true}

// -----

// Tests that a data source's required options must be present.
// expected-error@+1 {{'dl.train_setup' op 'text' is missing option 'path'}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 32 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_source = #dl.config<"text", {sequence_length = 20 : i64, vocab_size = 1000 : i64}>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that the batch size is positive (an ODS constraint, checked while
// parsing the custom form).
// expected-error@+1 {{attribute 'batch_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
dl.train_setup {
  loss = #dl.config<"mse", {}>,
  optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>,
  metrics = [], batch_size = 0 : i64, epochs = 1 : i64, precision = #dl<precision fp32>,
  data_transforms = [], validation = "test", shuffle = true}

// -----

// Tests that a conv2d kernel must have a known height and width.
func.func @conv2d_dynamic_kernel(%x: tensor<?x8x8x1xf32>, %k: tensor<?x?x1x8xf32>) {
  // expected-error@+2 {{conv2d: kernel height and width must be known, got tensor<?x?x1x8xf32>}}
  // expected-error@+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<?x8x8x1xf32>, tensor<?x?x1x8xf32>) -> tensor<?x8x8x8xf32>
  return
}

// -----

// Tests that optimizer_update keeps exactly the optimizer's slots.
func.func @adam_needs_two_slots(%p: tensor<4xf32>, %g: tensor<4xf32>, %s: tensor<i64>, %m: tensor<4xf32>) {
  // expected-error@+1 {{'adam' with these options keeps 2 slot(s) per parameter, got 1 operand(s) and 1 result(s)}}
  %0:2 = dl.optimizer_update %p, %g, %s, %m {config = #dl.config<"adam", {amsgrad = false, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64, learning_rate = 1.0e-03 : f64}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

// Tests that assign checks the parameter's type.
module {
  dl.param @"w" : tensor<4xf32> init zeros
  func.func @assign_wrong_type(%v: tensor<5xf32>) {
    // expected-error@+1 {{value of type 'tensor<5xf32>' cannot be stored into @w of type 'tensor<4xf32>'}}
    dl.assign @w, %v : tensor<5xf32>
    return
  }
}

// -----

// Tests that a convolution gradient's dy must have the convolution's output
// shape (same padding at stride 2 turns height 9 into 5, not 4).
func.func @conv_grad_input_dy_shape(%dy: tensor<2x4x4x6xf32>, %k: tensor<3x3x3x6xf32>) {
  // expected-error@+1 {{'dl.conv2d_grad_input' op dy has height 4 but the convolution of height 9 gives 5}}
  %0 = dl.conv2d_grad_input %dy, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 2, 2>} : (tensor<2x4x4x6xf32>, tensor<3x3x3x6xf32>) -> tensor<2x9x8x3xf32>
  return
}

// -----

// Tests that a kernel gradient checks dy's channels against the kernel's filters.
func.func @conv_grad_kernel_filters(%x: tensor<2x5x5x3xf32>, %dy: tensor<2x3x3x7xf32>) {
  // expected-error@+1 {{'dl.conv2d_grad_kernel' op dy has 7 channels but the kernel has 6 filters}}
  %0 = dl.conv2d_grad_kernel %x, %dy {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<2x5x5x3xf32>, tensor<2x3x3x7xf32>) -> tensor<3x3x3x6xf32>
  return
}

// -----

// Tests that a float does not cast to an integer (no rounding mode is defined).
func.func @cast_float_to_integer(%x: tensor<4x3xf32>) -> tensor<*xi32> {
  // expected-error@+2 {{cast: cannot cast float f32 to integer i32 (no rounding mode is defined)}}
  // expected-error@+1 {{'dl.cast' op failed to infer returned types}}
  %y = dl.cast %x {to = i32} : (tensor<4x3xf32>) -> tensor<*xi32>
  return %y : tensor<*xi32>
}

// -----

// Tests that a cast names an element type dl has.
func.func @cast_unknown_type(%x: tensor<4x3xf32>) -> tensor<*xf32> {
  // expected-error@+2 {{cast: cannot cast to i8; element types: f16, bf16, f32, f64, i32, i64}}
  // expected-error@+1 {{'dl.cast' op failed to infer returned types}}
  %y = dl.cast %x {to = i8} : (tensor<4x3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// Tests that a metric's rule is one dl scores by.
func.func @metric_rule(%p: tensor<4x3xf32>, %y: tensor<4x3xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'dl.metric' op rule must be 'top_k' or 'binary', got 'f1'}}
  %s = dl.metric %p, %y {k = 1 : i64, rule = "f1", threshold = 5.0e-01 : f64} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// Tests that each example gets one loss.
func.func @example_loss_shape(%p: tensor<4x3xf32>, %y: tensor<4x3xf32>) -> tensor<3xf32> {
  // expected-error@+1 {{'dl.example_loss' op result 'tensor<3xf32>' must hold one value per example of 'tensor<4x3xf32>'}}
  %l = dl.example_loss %p, %y {config = #dl.config<"mse", {}>} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<3xf32>
  return %l : tensor<3xf32>
}

// -----

// Tests that per-example ops need a class axis after the examples.
func.func @metric_rank(%p: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'dl.metric' op needs predictions [N, classes] or [N, positions..., classes], got 'tensor<4xf32>'}}
  %s = dl.metric %p, %y {k = 1 : i64, rule = "binary", threshold = 5.0e-01 : f64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// Tests that class ids of a sequence of predictions keep its positions.
func.func @example_loss_sequence_ids(%p: tensor<4x6x3xf32>, %y: tensor<4xi32>) -> tensor<4xf32> {
  // expected-error@+1 {{'dl.example_loss' op needs integer class ids shaped like the prediction without its class axis, 'tensor<4x6x3xf32>', got 'tensor<4xi32>'}}
  %l = dl.example_loss %p, %y {config = #dl.config<"sparse_categorical_crossentropy", {from_logits = false}>} : (tensor<4x6x3xf32>, tensor<4xi32>) -> tensor<4xf32>
  return %l : tensor<4xf32>
}

// -----

// Tests that the loss-scaling state has runtime/loss_scale.h's five fields.
func.func @loss_scale_state_shape(%state: tensor<4xf32>, %g: tensor<3xf32>) {
  // expected-error@+1 {{state must be the loss-scaling state tensor<5xf32>, got 'tensor<4xf32>'}}
  %0 = dl.loss_scale_update %state, %g {growth_steps = 2000 : i64} : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that dl.loss_scale_update checks at least one gradient.
func.func @loss_scale_no_gradients(%state: tensor<5xf32>) {
  // expected-error@+1 {{checks at least one gradient}}
  %0 = dl.loss_scale_update %state {growth_steps = 2000 : i64} : (tensor<5xf32>) -> tensor<5xf32>
  return
}

// -----

// Tests that an optimizer update's loss-scaling operand is the state.
func.func @optimizer_loss_scale_shape(%p: tensor<4xf32>, %g: tensor<4xf32>, %s: tensor<i64>, %ls: tensor<2xf32>) {
  // expected-error@+1 {{loss_scale must be the loss-scaling state tensor<5xf32>, got 'tensor<2xf32>'}}
  %0 = dl.optimizer_update %p, %g, %s loss_scale %ls {config = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>, tensor<2xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that a constant initializer's values fit the parameter.
// expected-error@+1 {{constant of shape 'tensor<3xf32>' does not fit parameter type 'tensor<5xf32>'}}
dl.param @"optimizer/loss_scale" : tensor<5xf32> init constant(dense<[1.0, 2.0, 3.0]> : tensor<3xf32>) frozen slot of "optimizer"

// -----

// Tests that only the constant initializer takes values.
// expected-error@+1 {{the constant initializer, and only it, takes values}}
"dl.param"() <{sym_name = "w", type = tensor<2xf32>, initializer = #dl<init zeros>, initial_value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> ()

// -----

// Tests that a loss scale setting is one of the catalog's.
// expected-error@+1 {{unknown loss scale 'static'}}
dl.train_setup {batch_size = 2 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, loss_scale = #dl.config<"static", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}

// -----

// Tests that an optimizer clipping by norm takes the gradient's norm.
func.func @clipnorm_without_norm(%p: tensor<4xf32>, %g: tensor<4xf32>, %s: tensor<i64>) {
  // expected-error@+1 {{clips by norm, so it takes the gradient's norm (grad_norm)}}
  %0 = dl.optimizer_update %p, %g, %s {config = #dl.config<"sgd", {clipnorm = 1.0 : f64, learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> tensor<4xf32>
  return
}

// -----

// Tests that a norm is refused where the optimizer does not clip by norm.
func.func @norm_without_clipnorm(%p: tensor<4xf32>, %g: tensor<4xf32>, %s: tensor<i64>, %n: tensor<1xf32>) {
  // expected-error@+1 {{takes a grad_norm, but its optimizer does not clip by norm}}
  %0 = dl.optimizer_update %p, %g, %s grad_norm %n {config = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>, tensor<1xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that Keras' rule of one gradient clipping holds in the IR too.
func.func @two_clippings(%p: tensor<4xf32>, %g: tensor<4xf32>, %s: tensor<i64>, %n: tensor<1xf32>) {
  // expected-error@+1 {{optimizer 'sgd': set at most one of clipvalue, clipnorm and global_clipnorm}}
  %0 = dl.optimizer_update %p, %g, %s grad_norm %n {config = #dl.config<"sgd", {clipnorm = 1.0 : f64, clipvalue = 1.0 : f64, learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>, tensor<1xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that a gradient norm is of at least one gradient, as tensor<1xf32>.
func.func @norm_of_nothing() {
  // expected-error@+1 {{takes the norm of at least one gradient}}
  %0 = dl.gradient_norm : () -> tensor<1xf32>
  return
}

// -----

func.func @norm_shape(%g: tensor<4xf32>) {
  // expected-error@+1 {{result must be a norm, tensor<1xf32>, got 'tensor<2xf32>'}}
  %0 = dl.gradient_norm %g : (tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

// Tests that a weights layout is PyTorch's, for a parameter read from a file.
// expected-error@+1 {{weights layout must be "torch" (PyTorch's), got "onnx"}}
dl.param @"d/kernel" : tensor<4x3xf32> init zeros from "w.safetensors" layout "onnx" class "dense"

// -----

// expected-error@+1 {{a weights layout needs a weights file}}
dl.param @"d/kernel" : tensor<4x3xf32> init zeros layout "torch"

// -----

// expected-error@+1 {{image_rows [H, W, C] are for a torch-layout kernel of H * W * C rows}}
dl.param @"d/kernel" : tensor<12x3xf32> init zeros from "w.safetensors" layout "torch" class "dense" {image_rows = array<i64: 2, 2, 2>}
