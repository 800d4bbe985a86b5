// RUN: dlc-opt %s --split-input-file --dlc-fuse | FileCheck %s

// Tests that dense takes the activation after it as its epilogue and that
// the activation's result is the group's only output.
// CHECK-LABEL: func.func @dense_relu
// CHECK: %[[Y:.*]] = dl.fused "dense+relu"(%{{.*}}, %{{.*}}) : {{.*}} {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4x8xf32>, %[[K:.*]]: tensor<8x3xf32>):
// CHECK-NEXT: %[[D:.*]] = dl.dense %[[X]], %[[K]]
// CHECK-NEXT: %[[R:.*]] = dl.relu %[[D]]
// CHECK-NEXT: dl.yield %[[R]] : tensor<4x3xf32>
// CHECK: return %[[Y]]
func.func @dense_relu(%x: tensor<4x8xf32>, %k: tensor<8x3xf32>) -> tensor<4x3xf32> {
  %d = dl.dense %x, %k : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %r = dl.relu %d : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// -----

// Tests that a value also used outside the group is yielded, and that a
// bias_grad written after other consumers of its operand moves up to join
// the group as a reduction epilogue.
// CHECK-LABEL: func.func @hoisted_bias_grad
// CHECK: %[[G:.*]]:2 = dl.fused "relu_grad+bias_grad"
// CHECK: dl.fused "dense_grad_kernel"(%{{.*}}, %[[G]]#0)
// CHECK: return %{{.*}}, %[[G]]#1
func.func @hoisted_bias_grad(%y: tensor<4x3xf32>, %dy: tensor<4x3xf32>, %x: tensor<4x8xf32>) -> (tensor<8x3xf32>, tensor<3xf32>) {
  %g = dl.relu_grad %y, %dy : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %dk = dl.dense_grad_kernel %x, %g : (tensor<4x8xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  %db = dl.bias_grad %g : (tensor<4x3xf32>) -> tensor<3xf32>
  return %dk, %db : tensor<8x3xf32>, tensor<3xf32>
}

// -----

// Tests that an op does not join a group when a use of the group's value
// comes between them and the op needs a value computed after the group: the
// add reads %v, so it cannot join the relu (whose %r dense_grad_input reads
// first) and joins the dense that produces %v instead.
// CHECK-LABEL: func.func @no_fusion_across_a_use
// CHECK: dl.fused "relu"
// CHECK: dl.fused "dense_grad_input"
// CHECK: dl.fused "dense+add"
func.func @no_fusion_across_a_use(%a: tensor<4x3xf32>, %k: tensor<8x3xf32>) -> tensor<4x3xf32> {
  %r = dl.relu %a : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %u = dl.dense_grad_input %r, %k : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %v = dl.dense %u, %k : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %s = dl.add %r, %v : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %s : tensor<4x3xf32>
}

// -----

// Tests that a convolution pools inside its kernel when the windows tile its
// output, and that ops after the pool start a group of their own (a pool
// reads the kernel's inputs, never values computed inside it).
// CHECK-LABEL: func.func @conv_relu_pool_then_dropout
// CHECK: %[[P:.*]] = dl.fused "conv2d+relu+max_pool2d"
// CHECK: dl.fused "dropout+relu"(%[[P]])
func.func @conv_relu_pool_then_dropout(%x: tensor<1x9x9x2xf32>, %k: tensor<3x3x2x4xf32>) -> tensor<1x3x3x4xf32> {
  %c = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<1x9x9x2xf32>, tensor<3x3x2x4xf32>) -> tensor<1x7x7x4xf32>
  %r = dl.relu %c : (tensor<1x7x7x4xf32>) -> tensor<1x7x7x4xf32>
  %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x7x7x4xf32>) -> tensor<1x3x3x4xf32>
  %d = dl.dropout %p {rate = 2.500000e-01 : f64, training} : (tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
  %s = dl.relu %d : (tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
  return %s : tensor<1x3x3x4xf32>
}

// -----

// Tests that a pool whose windows leave gaps (stride above the window) stays
// out of the convolution's kernel, which could not tile it.
// CHECK-LABEL: func.func @gapped_pool
// CHECK: %[[C:.*]] = dl.fused "conv2d+relu"
// CHECK: dl.fused "max_pool2d"(%[[C]])
func.func @gapped_pool(%x: tensor<1x9x9x2xf32>, %k: tensor<3x3x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %c = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<1x9x9x2xf32>, tensor<3x3x2x4xf32>) -> tensor<1x7x7x4xf32>
  %r = dl.relu %c : (tensor<1x7x7x4xf32>) -> tensor<1x7x7x4xf32>
  %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 3, 3>} : (tensor<1x7x7x4xf32>) -> tensor<1x2x2x4xf32>
  return %p : tensor<1x2x2x4xf32>
}

// -----

// Tests that a pool after an activation that no matrix kernel computes (here
// the relu after a batch normalization) is a kernel of its own.
// CHECK-LABEL: func.func @relu_then_pool
// CHECK: %[[R:.*]] = dl.fused "relu"
// CHECK: dl.fused "max_pool2d"(%[[R]])
func.func @relu_then_pool(%x: tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32> {
  %r = dl.relu %x : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32>
  return %p : tensor<1x4x4x4xf32>
}

// -----

// Tests that softmax joins a dense kernel only along the last axis (the
// rows the kernel's epilogue normalizes); along another axis it is a kernel
// of its own (found by the model fuzzer, seed 500133).
// CHECK-LABEL: func.func @softmax_not_last_axis
// CHECK: %[[D:.*]] = dl.fused "dense"
// CHECK: dl.fused "softmax"(%[[D]])
func.func @softmax_not_last_axis(%x: tensor<2x3x4xf32>, %k: tensor<4x5xf32>) -> tensor<2x3x5xf32> {
  %d = dl.dense %x, %k : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %s = dl.softmax %d {axis = 1 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %s : tensor<2x3x5xf32>
}
