// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels | FileCheck %s
// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cpu | FileCheck %s --check-prefix=CPU

// Tests that every group records, per target, the kernel families that run
// its ops in order: conv2d + relu is one CPU call (the activation as the
// oneDNN epilogue) and the pool another; CUDA runs all three in one matrix
// kernel.
// CHECK-LABEL: func.func @conv_relu_pool
// CHECK: dl.fused "conv2d+relu+max_pool2d"{{.*}} {kernels = {cpu = ["activation_epilogue", "op"], cuda = ["gemm"]}}
// CPU-LABEL: func.func @conv_relu_pool
// CPU: dl.fused "conv2d+relu+max_pool2d"{{.*}} {kernels = {cpu = ["activation_epilogue", "op"]}}
func.func @conv_relu_pool(%x: tensor<2x8x8x3xf32>, %k: tensor<3x3x3x4xf32>) -> tensor<2x3x3x4xf32> {
  %c = dl.conv2d %x, %k {strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, padding = #dl<padding valid>} : (tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x6x6x4xf32>
  %r = dl.relu %c : (tensor<2x6x6x4xf32>) -> tensor<2x6x6x4xf32>
  %p = dl.max_pool2d %r {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = #dl<padding valid>} : (tensor<2x6x6x4xf32>) -> tensor<2x3x3x4xf32>
  return %p : tensor<2x3x3x4xf32>
}

// -----

// Tests that an activation whose input is also returned is not an epilogue
// on the CPU (the input must be stored): two calls, one CUDA kernel.
// CHECK-LABEL: func.func @dense_relu_both_returned
// CHECK: dl.fused "dense+relu"{{.*}} {kernels = {cpu = ["op", "op"], cuda = ["gemm"]}}
func.func @dense_relu_both_returned(%x: tensor<4x8xf32>, %k: tensor<8x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %d = dl.dense %x, %k : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %r = dl.relu %d : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %d, %r : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// Tests the pooling gradient's CPU routine (one pass for the pool gradient,
// the relu mask and the bias sum) and that dense + softmax is a CUDA row
// epilogue but two CPU calls.
// CHECK-LABEL: func.func @pool_grad_relu_bias
// CHECK: dl.fused "max_pool2d_grad+relu_grad+bias_grad"{{.*}} {kernels = {cpu = ["max_pool_grad_relu_bias"], cuda = ["elementwise"]}}
func.func @pool_grad_relu_bias(%x: tensor<2x6x6x4xf32>, %dy: tensor<2x3x3x4xf32>) -> (tensor<2x6x6x4xf32>, tensor<4xf32>) {
  %g = dl.max_pool2d_grad %x, %dy {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = #dl<padding valid>} : (tensor<2x6x6x4xf32>, tensor<2x3x3x4xf32>) -> tensor<2x6x6x4xf32>
  %r = dl.relu_grad %x, %g : (tensor<2x6x6x4xf32>, tensor<2x6x6x4xf32>) -> tensor<2x6x6x4xf32>
  %b = dl.bias_grad %r : (tensor<2x6x6x4xf32>) -> tensor<4xf32>
  return %r, %b : tensor<2x6x6x4xf32>, tensor<4xf32>
}

// CHECK-LABEL: func.func @dense_softmax
// CHECK: dl.fused "dense+softmax"{{.*}} {kernels = {cpu = ["op", "op"], cuda = ["gemm"]}}
func.func @dense_softmax(%x: tensor<4x8xf32>, %k: tensor<8x3xf32>) -> tensor<4x3xf32> {
  %d = dl.dense %x, %k : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %s = dl.softmax %d {axis = -1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %s : tensor<4x3xf32>
}

// -----

// Tests that dlc-fuse asks the registry: a softmax along the batch axis is
// no row epilogue of the dense kernel on CUDA, so it stays a group of its own.
// CHECK-LABEL: func.func @softmax_axis0
// CHECK: dl.fused "dense"{{.*}} {kernels = {cpu = ["op"], cuda = ["gemm"]}}
// CHECK: dl.fused "softmax"{{.*}} {kernels = {cpu = ["op"], cuda = ["normalization"]}}
func.func @softmax_axis0(%x: tensor<4x8xf32>, %k: tensor<8x3xf32>) -> tensor<4x3xf32> {
  %d = dl.dense %x, %k : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %s = dl.softmax %d {axis = 0 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return %s : tensor<4x3xf32>
}
