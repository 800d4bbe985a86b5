// RUN: dlc-opt %s --split-input-file --dlc-fuse=kernels=auto --dlc-select-kernels=kernels=auto | FileCheck %s
// RUN: dlc-opt %s --split-input-file --dlc-fuse=kernels=auto --dlc-select-kernels="kernels=auto deterministic=true" | FileCheck %s --check-prefix=FIXED
// RUN: dlc-opt %s --split-input-file --dlc-fuse=kernels=library --dlc-select-kernels=kernels=library | FileCheck %s --check-prefix=FIXED
// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels | FileCheck %s --check-prefix=FIXED

// Under kernels=auto, a group that a library family and generated code can
// both run records the plan the cost model did not take as
// `alternative_kernels`, which the device times against `kernels` on its
// first run. Under --deterministic, or when the kernels are forced, the
// plan is fixed: no alternatives.
// FIXED-NOT: alternative_kernels

// Tests that a product too small for a library call stays generated, with
// cuBLASLt's call as its alternative.
// CHECK-LABEL: func.func @small_dense
// CHECK: dl.fused "dense+relu"{{.*}} {alternative_kernels = {cuda = ["cublaslt_matmul"]}, kernels = {cpu = ["activation_epilogue"], cuda = ["gemm"]}}
func.func @small_dense(%x: tensor<4x64xf32>, %k: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<4x32xf32> {
  %d = dl.dense %x, %k, %b : (tensor<4x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  %r = dl.relu %d : (tensor<4x32xf32>) -> tensor<4x32xf32>
  return %r : tensor<4x32xf32>
}

// -----

// Tests that a product the cost model gives to cuBLASLt has the generated
// GEMM as its alternative.
// CHECK-LABEL: func.func @large_dense
// CHECK: dl.fused "dense"{{.*}} {alternative_kernels = {cuda = ["gemm"]}, kernels = {cpu = ["op"], cuda = ["cublaslt_matmul"]}}
func.func @large_dense(%x: tensor<256x1024xf32>, %k: tensor<1024x512xf32>, %b: tensor<512xf32>) -> tensor<256x512xf32> {
  %d = dl.dense %x, %k, %b : (tensor<256x1024xf32>, tensor<1024x512xf32>, tensor<512xf32>) -> tensor<256x512xf32>
  return %d : tensor<256x512xf32>
}

// -----

// Tests that a group no library family runs whole (a pool after the
// convolution) has no alternative.
// CHECK-LABEL: func.func @conv_relu_pool
// CHECK-NOT: alternative_kernels
// CHECK: dl.fused "conv2d+relu+max_pool2d"{{.*}} {kernels = {cpu = ["activation_epilogue", "op"], cuda = ["gemm"]}}
func.func @conv_relu_pool(%x: tensor<2x8x8x3xf32>, %k: tensor<3x3x3x4xf32>) -> tensor<2x3x3x4xf32> {
  %c = dl.conv2d %x, %k {strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, padding = #dl<padding valid>} : (tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x6x6x4xf32>
  %r = dl.relu %c : (tensor<2x6x6x4xf32>) -> tensor<2x6x6x4xf32>
  %p = dl.max_pool2d %r {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = #dl<padding valid>} : (tensor<2x6x6x4xf32>) -> tensor<2x3x3x4xf32>
  return %p : tensor<2x3x3x4xf32>
}
