// RUN: dlc-opt %s --split-input-file --dlc-fuse="kernels=library" | FileCheck %s
// RUN: dlc-opt %s --split-input-file --dlc-fuse | FileCheck %s --check-prefix=GENERATED
// RUN: dlc-opt %s --split-input-file --dlc-fuse="kernels=auto" | FileCheck %s --check-prefix=AUTO
// RUN: not dlc-opt %s --split-input-file --dlc-fuse="kernels=vendor" 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: dlc-fuse: kernels 'vendor' is not generated, library or auto

// Tests that under kernels=library the pool after a convolution cuDNN runs
// is a group of its own (cuDNN runs the conv2d and its relu), where the
// generated GEMM would pool in its tile; a convolution too small to pay
// for the call (auto) keeps its pool.
// CHECK-LABEL: func.func @conv_relu_pool
// CHECK: %[[C:.*]] = dl.fused "conv2d+relu"
// CHECK: dl.fused "max_pool2d"(%[[C]])
// GENERATED-LABEL: func.func @conv_relu_pool
// GENERATED: dl.fused "conv2d+relu+max_pool2d"
// AUTO-LABEL: func.func @conv_relu_pool
// AUTO: dl.fused "conv2d+relu+max_pool2d"
func.func @conv_relu_pool(%x: tensor<1x9x9x2xf32>, %k: tensor<3x3x2x4xf32>) -> tensor<1x3x3x4xf32> {
  %c = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<1x9x9x2xf32>, tensor<3x3x2x4xf32>) -> tensor<1x7x7x4xf32>
  %r = dl.relu %c : (tensor<1x7x7x4xf32>) -> tensor<1x7x7x4xf32>
  %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x7x7x4xf32>) -> tensor<1x3x3x4xf32>
  return %p : tensor<1x3x3x4xf32>
}

// -----

// Tests that a VGG-sized convolution (3.7 GFLOP) leaves its pool under auto
// as well, and that a 3x3 "same" convolution (symmetric padding) qualifies.
// AUTO-LABEL: func.func @large_conv_pool
// AUTO: %[[C:.*]] = dl.fused "conv2d+relu"
// AUTO: dl.fused "max_pool2d"(%[[C]])
func.func @large_conv_pool(%x: tensor<32x56x56x64xf32>, %k: tensor<3x3x64x64xf32>) -> tensor<32x28x28x64xf32> {
  %c = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<32x56x56x64xf32>, tensor<3x3x64x64xf32>) -> tensor<32x56x56x64xf32>
  %r = dl.relu %c : (tensor<32x56x56x64xf32>) -> tensor<32x56x56x64xf32>
  %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<32x56x56x64xf32>) -> tensor<32x28x28x64xf32>
  return %p : tensor<32x28x28x64xf32>
}

// -----

// Tests that a "same" convolution whose padding cuDNN cannot express (an
// even window: one row more below than above) keeps its pool: no library
// runs it either way.
// CHECK-LABEL: func.func @asymmetric_padding
// CHECK: dl.fused "conv2d+relu+max_pool2d"
func.func @asymmetric_padding(%x: tensor<1x8x8x2xf32>, %k: tensor<2x2x2x4xf32>) -> tensor<1x4x4x4xf32> {
  %c = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<1x8x8x2xf32>, tensor<2x2x2x4xf32>) -> tensor<1x8x8x4xf32>
  %r = dl.relu %c : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32>
  return %p : tensor<1x4x4x4xf32>
}

// -----

// Tests that the softmax after a cuBLASLt product is a group of its own,
// and that a bf16 product leaves its operands' casts to kernels of their own
// (cuBLASLt reads its operands as stored).
// CHECK-LABEL: func.func @dense_softmax_bf16
// CHECK: %[[XC:.*]] = dl.fused "cast"(%{{.*}})
// CHECK: %[[KC:.*]] = dl.fused "cast"(%{{.*}})
// CHECK: %[[D:.*]] = dl.fused "dense"(%[[XC]], %[[KC]])
// CHECK: dl.fused "softmax"(%[[D]])
// GENERATED-LABEL: func.func @dense_softmax_bf16
// GENERATED-NEXT: dl.fused "dense"(%arg0, %arg1)
func.func @dense_softmax_bf16(%x: tensor<4x8xf32>, %k: tensor<8x3xf32>) -> tensor<4x3xbf16> {
  %xc = dl.cast %x {to = bf16} : (tensor<4x8xf32>) -> tensor<4x8xbf16>
  %kc = dl.cast %k {to = bf16} : (tensor<8x3xf32>) -> tensor<8x3xbf16>
  %d = dl.dense %xc, %kc : (tensor<4x8xbf16>, tensor<8x3xbf16>) -> tensor<4x3xbf16>
  %s = dl.softmax %d {axis = -1 : i64} : (tensor<4x3xbf16>) -> tensor<4x3xbf16>
  return %s : tensor<4x3xbf16>
}
