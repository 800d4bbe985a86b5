// RUN: dlc-opt %s -split-input-file --dlc-infer-shapes -verify-diagnostics
// RUN: not dlc-opt %s --dlc-infer-shapes=batch-size=-1 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// A negative batch size is refused, and no module is printed.
// NEGATIVE: infer-shapes-invalid.mlir:0:0: error: batch-size must be positive (or 0 to keep the batch dynamic), got -1
// NEGATIVE-NOT: {{^}}module {

// Shape errors that the verifier could not see because an operand was
// unranked: the pass reports them at the op, with the layer name, and fails.

// Tests that a window found too big only after inference is reported at the
// conv2d (its input is unranked until the relu before it is inferred).
func.func @window_too_big(%x: tensor<?x4x4x1xf32>, %k: tensor<5x5x1x8xf32>) -> tensor<*xf32> {
  %0 = dl.relu %x : (tensor<?x4x4x1xf32>) -> tensor<*xf32>
  // expected-error@+1 {{conv2d: input height 4 is smaller than the window 5 with valid padding}}
  %1 = dl.conv2d %0, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<*xf32>, tensor<5x5x1x8xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

// Tests that a channel mismatch hidden behind an unranked value is found.
func.func @channels(%x: tensor<?x28x28x3xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  %0 = dl.relu %x : (tensor<?x28x28x3xf32>) -> tensor<*xf32>
  // expected-error@+1 {{conv2d: kernel input channels is 1 but must be 3}}
  %1 = dl.conv2d %0, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<*xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

// Tests that an error several ops downstream is found once the chain is
// inferred: flatten yields 13 * 13 * 32 = 5408 features, not 576.
func.func @dense_after_flatten(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x32xf32>, %d: tensor<576x10xf32>) -> tensor<*xf32> {
  %0 = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>) -> tensor<*xf32>
  %1 = dl.max_pool2d %0 {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  %2 = dl.flatten %1 : (tensor<*xf32>) -> tensor<*xf32>
  // expected-error@+1 {{dense: kernel input size is 576 but must be 5408}}
  %3 = dl.dense %2, %d : (tensor<*xf32>, tensor<576x10xf32>) -> tensor<*xf32>
  return %3 : tensor<*xf32>
}

// -----

// Tests that the pass stops at the first error: the bad add after the bad
// reshape is not reported.
func.func @first_error_only(%x: tensor<?x6xf32>, %y: tensor<?x5xf32>) -> tensor<*xf32> {
  %0 = dl.tanh %x : (tensor<?x6xf32>) -> tensor<*xf32>
  // expected-error@+1 {{reshape: cannot reshape 6 elements per example into 4}}
  %1 = dl.reshape %0 {shape = array<i64: 2, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  %2 = dl.add %0, %y : (tensor<*xf32>, tensor<?x5xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}

// -----

// Tests that an error in a later function is found after an earlier one was
// inferred without trouble.
func.func @fine(%x: tensor<?x4xf32>) -> tensor<*xf32> {
  %0 = dl.relu %x : (tensor<?x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
func.func @merge(%x: tensor<?x4xf32>, %y: tensor<?x5xf32>) -> tensor<*xf32> {
  %0 = dl.sigmoid %x : (tensor<?x4xf32>) -> tensor<*xf32>
  // expected-error@+1 {{add: inputs must have one shape, got tensor<?x4xf32> and tensor<?x5xf32>}}
  %1 = dl.add %0, %y : (tensor<*xf32>, tensor<?x5xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

// Tests that a softmax axis is checked once the rank is known.
func.func @softmax_axis(%x: tensor<?x10xf32>) -> tensor<*xf32> {
  %0 = dl.relu %x : (tensor<?x10xf32>) -> tensor<*xf32>
  // expected-error@+1 {{softmax: axis 2 is out of range for rank 2}}
  %1 = dl.softmax %0 {axis = 2 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}
