// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cpu --dlc-plan-memory | FileCheck %s

// Tests that values whose lifetimes do not overlap share arena bytes (four
// 4 KiB values, three kernels, an arena of two): the argument (read by the
// first kernel) and the product (made by the second) take offset 0, the
// relu result (first to second kernel) and the returned sigmoid 4096.
// CHECK-LABEL: func.func @reuse
// CHECK-SAME: (%{{.*}}: tensor<32x32xf32> {dl.memory = 0 : i64}) -> tensor<32x32xf32>
// CHECK-SAME: dl.arena_bytes = 8192 : i64
// CHECK: dl.relu {{.*}}dl.memory = [4096]
// CHECK: dl.dense_grad_kernel {{.*}}dl.memory = [0]
// CHECK: dl.sigmoid {{.*}}dl.memory = [4096]
func.func @reuse(%x: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %a = dl.relu %x : (tensor<32x32xf32>) -> tensor<32x32xf32>
  %b = dl.dense_grad_kernel %a, %a : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %c = dl.sigmoid %b : (tensor<32x32xf32>) -> tensor<32x32xf32>
  return %c : tensor<32x32xf32>
}

// -----

// Tests that a conv2d result its CPU call applies the activation to is never
// stored ("unstored"), and that the activation's result is.
// CHECK-LABEL: func.func @epilogue
// CHECK: dl.conv2d {{.*}}dl.memory = ["unstored"]
// CHECK: dl.relu {{.*}}dl.memory = [{{[0-9]+}}]
func.func @epilogue(%x: tensor<1x8x8x2xf32>, %k: tensor<3x3x2x4xf32>) -> tensor<1x6x6x4xf32> {
  %c = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<1x8x8x2xf32>, tensor<3x3x2x4xf32>) -> tensor<1x6x6x4xf32>
  %r = dl.relu %c : (tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32>
  return %r : tensor<1x6x6x4xf32>
}

// -----

// Tests in-place parameter writes: the first update is written straight into
// @w (no later kernel reads the old value); @v is read after its new value
// is made, so that value stays in the arena and a copy writes it at the end.
// CHECK-LABEL: func.func @updates
// CHECK: dl.relu {{.*}}dl.memory = [@w]
// CHECK: dl.sigmoid {{.*}}dl.memory = [{{[0-9]+}}]
module {
  dl.param @w : tensor<16xf32> init zeros
  dl.param @v : tensor<16xf32> init zeros
  func.func @updates(%x: tensor<16xf32>) -> tensor<16xf32> {
    %w = dl.weight @w : tensor<16xf32>
    %v = dl.weight @v : tensor<16xf32>
    %nw = dl.relu %w : (tensor<16xf32>) -> tensor<16xf32>
    %nv = dl.sigmoid %v : (tensor<16xf32>) -> tensor<16xf32>
    %y = dl.add %v, %x : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
    dl.assign @w, %nw : tensor<16xf32>
    dl.assign @v, %nv : tensor<16xf32>
    return %y : tensor<16xf32>
  }
}
