// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// RUN: dlc-opt %s --mlir-print-op-generic | dlc-opt | FileCheck %s
// RUN: dlc-opt %s --mlir-print-debuginfo | dlc-opt --mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// Round trip of every dl op in its custom form, and through the generic form.
// Each function covers one op (or one variant); results are checked with their
// attributes and types, since those are what the printer must reproduce.

// Tests that parameters keep their initializer, `frozen` and `from` clauses in
// every combination.
// CHECK: dl.param @"conv/kernel" : tensor<3x3x1x8xf32> init glorot_uniform{{$}}
// CHECK-NEXT: dl.param @"conv/bias" : tensor<8xf32> init zeros{{$}}
// CHECK-NEXT: dl.param @"bn/gamma" : tensor<8xf32> init ones frozen{{$}}
// CHECK-NEXT: dl.param @"bn/beta" : tensor<8xf32> init zeros frozen from "vgg16.safetensors"{{$}}
// CHECK-NEXT: dl.param @"dense/kernel" : tensor<4x2xf64> init he_normal from "w.safetensors"{{$}}
// CHECK-NEXT: dl.param @"lstm/bias" : tensor<16xbf16> init lstm_bias{{$}}
// CHECK-NEXT: dl.param @"emb/table" : tensor<100x4xf16> init uniform{{$}}
dl.param @"conv/kernel" : tensor<3x3x1x8xf32> init glorot_uniform
dl.param @"conv/bias" : tensor<8xf32> init zeros
dl.param @"bn/gamma" : tensor<8xf32> init ones frozen
dl.param @"bn/beta" : tensor<8xf32> init zeros frozen from "vgg16.safetensors"
dl.param @"dense/kernel" : tensor<4x2xf64> init he_normal from "w.safetensors"
dl.param @"lstm/bias" : tensor<16xbf16> init lstm_bias
dl.param @"emb/table" : tensor<100x4xf16> init uniform

// Tests that dl.weight reads a parameter by its quoted symbol name.
// CHECK-LABEL: func @weights
// CHECK-NEXT: %[[K:.*]] = dl.weight @"conv/kernel" : tensor<3x3x1x8xf32>
// CHECK-NEXT: %[[B:.*]] = dl.weight @"conv/bias" : tensor<8xf32>
// CHECK-NEXT: return %[[K]], %[[B]] : tensor<3x3x1x8xf32>, tensor<8xf32>
func.func @weights() -> (tensor<3x3x1x8xf32>, tensor<8xf32>) {
  %k = dl.weight @"conv/kernel" : tensor<3x3x1x8xf32>
  %b = dl.weight @"conv/bias" : tensor<8xf32>
  return %k, %b : tensor<3x3x1x8xf32>, tensor<8xf32>
}

// Tests conv2d with a bias, valid padding, unit strides and dilation.
// CHECK-LABEL: func @conv2d_bias_valid
// CHECK-SAME: (%[[X:.*]]: tensor<?x28x28x1xf32>, %[[K:.*]]: tensor<3x3x1x8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[Y:.*]] = dl.conv2d %[[X]], %[[K]], %[[B]] {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>, tensor<8xf32>) -> tensor<?x26x26x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @conv2d_bias_valid(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>, %b: tensor<8xf32>) -> tensor<?x26x26x8xf32> {
  %y = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>, tensor<8xf32>) -> tensor<?x26x26x8xf32>
  return %y : tensor<?x26x26x8xf32>
}

// Tests conv2d without a bias, `same` padding and stride 2 (ceil(28 / 2) = 14,
// ceil(27 / 2) = 14).
// CHECK-LABEL: func @conv2d_same_strided
// CHECK-SAME: (%[[X:.*]]: tensor<?x28x27x1xf32>, %[[K:.*]]: tensor<3x3x1x8xf32>)
// CHECK-NEXT: dl.conv2d %[[X]], %[[K]] {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 2, 2>} : (tensor<?x28x27x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x14x14x8xf32>
func.func @conv2d_same_strided(%x: tensor<?x28x27x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<?x14x14x8xf32> {
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 2, 2>} : (tensor<?x28x27x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x14x14x8xf32>
  return %y : tensor<?x14x14x8xf32>
}

// Tests conv2d with dilation and unequal strides: the effective window is
// 2 * (3 - 1) + 1 = 5, so height (28 - 5) / 1 + 1 = 24 and width
// (28 - 5) / 3 + 1 = 8.
// CHECK-LABEL: func @conv2d_dilated
// CHECK: dl.conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 2, 2>, padding = #dl<padding valid>, strides = array<i64: 1, 3>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x24x8x8xf32>
func.func @conv2d_dilated(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<?x24x8x8xf32> {
  %y = dl.conv2d %x, %k {dilation = array<i64: 2, 2>, padding = #dl<padding valid>, strides = array<i64: 1, 3>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x24x8x8xf32>
  return %y : tensor<?x24x8x8xf32>
}

// Tests both windowed poolings, valid and same, with non-square windows.
// CHECK-LABEL: func @pools
// CHECK-SAME: (%[[X:.*]]: tensor<?x26x26x8xf32>)
// CHECK-NEXT: %[[M:.*]] = dl.max_pool2d %[[X]] {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x26x26x8xf32>) -> tensor<?x13x13x8xf32>
// CHECK-NEXT: %[[A:.*]] = dl.avg_pool2d %[[M]] {padding = #dl<padding same>, pool_size = array<i64: 3, 2>, strides = array<i64: 2, 1>} : (tensor<?x13x13x8xf32>) -> tensor<?x7x13x8xf32>
// CHECK-NEXT: return %[[A]]
func.func @pools(%x: tensor<?x26x26x8xf32>) -> tensor<?x7x13x8xf32> {
  %m = dl.max_pool2d %x {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x26x26x8xf32>) -> tensor<?x13x13x8xf32>
  %a = dl.avg_pool2d %m {padding = #dl<padding same>, pool_size = array<i64: 3, 2>, strides = array<i64: 2, 1>} : (tensor<?x13x13x8xf32>) -> tensor<?x7x13x8xf32>
  return %a : tensor<?x7x13x8xf32>
}

// Tests the global poolings, which drop H and W.
// CHECK-LABEL: func @global_pools
// CHECK-SAME: (%[[X:.*]]: tensor<?x7x7x512xf32>)
// CHECK-NEXT: dl.global_max_pool2d %[[X]] : (tensor<?x7x7x512xf32>) -> tensor<?x512xf32>
// CHECK-NEXT: dl.global_avg_pool2d %[[X]] : (tensor<?x7x7x512xf32>) -> tensor<?x512xf32>
func.func @global_pools(%x: tensor<?x7x7x512xf32>) -> (tensor<?x512xf32>, tensor<?x512xf32>) {
  %m = dl.global_max_pool2d %x : (tensor<?x7x7x512xf32>) -> tensor<?x512xf32>
  %a = dl.global_avg_pool2d %x : (tensor<?x7x7x512xf32>) -> tensor<?x512xf32>
  return %m, %a : tensor<?x512xf32>, tensor<?x512xf32>
}

// Tests dense on a rank-2 input with a bias and on a rank-3 input without one
// (the kernel applies to the last axis).
// CHECK-LABEL: func @dense
// CHECK-SAME: (%[[X:.*]]: tensor<?x576xf32>, %[[S:.*]]: tensor<?x20x576xf32>, %[[K:.*]]: tensor<576x64xf32>, %[[B:.*]]: tensor<64xf32>)
// CHECK-NEXT: dl.dense %[[X]], %[[K]], %[[B]] : (tensor<?x576xf32>, tensor<576x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
// CHECK-NEXT: dl.dense %[[S]], %[[K]] : (tensor<?x20x576xf32>, tensor<576x64xf32>) -> tensor<?x20x64xf32>
func.func @dense(%x: tensor<?x576xf32>, %s: tensor<?x20x576xf32>, %k: tensor<576x64xf32>, %b: tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x20x64xf32>) {
  %0 = dl.dense %x, %k, %b : (tensor<?x576xf32>, tensor<576x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %1 = dl.dense %s, %k : (tensor<?x20x576xf32>, tensor<576x64xf32>) -> tensor<?x20x64xf32>
  return %0, %1 : tensor<?x64xf32>, tensor<?x20x64xf32>
}

// Tests flatten and reshape, whose -1 takes the remaining 3 * 3 * 64 / 32.
// CHECK-LABEL: func @flatten_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x3x64xf32>)
// CHECK-NEXT: dl.flatten %[[X]] : (tensor<?x3x3x64xf32>) -> tensor<?x576xf32>
// CHECK-NEXT: dl.reshape %[[X]] {shape = array<i64: 32, -1>} : (tensor<?x3x3x64xf32>) -> tensor<?x32x18xf32>
// CHECK-NEXT: dl.reshape %[[X]] {shape = array<i64: 24, 24>} : (tensor<?x3x3x64xf32>) -> tensor<?x24x24xf32>
func.func @flatten_reshape(%x: tensor<?x3x3x64xf32>) -> (tensor<?x576xf32>, tensor<?x32x18xf32>, tensor<?x24x24xf32>) {
  %0 = dl.flatten %x : (tensor<?x3x3x64xf32>) -> tensor<?x576xf32>
  %1 = dl.reshape %x {shape = array<i64: 32, -1>} : (tensor<?x3x3x64xf32>) -> tensor<?x32x18xf32>
  %2 = dl.reshape %x {shape = array<i64: 24, 24>} : (tensor<?x3x3x64xf32>) -> tensor<?x24x24xf32>
  return %0, %1, %2 : tensor<?x576xf32>, tensor<?x32x18xf32>, tensor<?x24x24xf32>
}

// Tests dropout with and without the optional seed.
// CHECK-LABEL: func @dropout
// CHECK-NEXT: dl.dropout %{{.*}} {rate = 5.000000e-01 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
// CHECK-NEXT: dl.dropout %{{.*}} {rate = 2.500000e-01 : f64, seed = 42 : i64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
func.func @dropout(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = dl.dropout %x {rate = 0.5 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %1 = dl.dropout %0 {seed = 42 : i64, rate = 0.25 : f64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %1 : tensor<?x64xf32>
}

// Tests batch_norm with gamma and beta, without either, and with gamma only:
// its optional operands are told apart by operandSegmentSizes, which the
// custom form prints in the attribute dictionary.
// CHECK-LABEL: func @batch_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x4x4x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>, %[[M:.*]]: tensor<8xf32>, %[[V:.*]]: tensor<8xf32>)
// CHECK-NEXT: dl.batch_norm %[[X]], %[[G]], %[[B]], %[[M]], %[[V]] {axis = -1 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
// CHECK-NEXT: dl.batch_norm %[[X]], %[[M]], %[[V]] {axis = 3 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
// CHECK-NEXT: dl.batch_norm %[[X]], %[[G]], %[[M]], %[[V]] {axis = 3 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
func.func @batch_norm(%x: tensor<?x4x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>) -> (tensor<?x4x4x8xf32>, tensor<?x4x4x8xf32>, tensor<?x4x4x8xf32>) {
  %0 = dl.batch_norm %x, %g, %b, %m, %v {axis = -1 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
  %1 = dl.batch_norm %x, %m, %v {axis = 3 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
  %2 = dl.batch_norm %x, %g, %m, %v {axis = 3 : i64, epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1>} : (tensor<?x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x4x8xf32>
  return %0, %1, %2 : tensor<?x4x4x8xf32>, tensor<?x4x4x8xf32>, tensor<?x4x4x8xf32>
}

// Tests embedding with i32 and i64 ids; the result takes the table's element
// type (f16 here).
// CHECK-LABEL: func @embedding
// CHECK-SAME: (%[[I:.*]]: tensor<?x20xi32>, %[[L:.*]]: tensor<?x20xi64>, %[[T:.*]]: tensor<100x4xf16>)
// CHECK-NEXT: dl.embedding %[[I]], %[[T]] : (tensor<?x20xi32>, tensor<100x4xf16>) -> tensor<?x20x4xf16>
// CHECK-NEXT: dl.embedding %[[L]], %[[T]] : (tensor<?x20xi64>, tensor<100x4xf16>) -> tensor<?x20x4xf16>
func.func @embedding(%i: tensor<?x20xi32>, %l: tensor<?x20xi64>, %t: tensor<100x4xf16>) -> (tensor<?x20x4xf16>, tensor<?x20x4xf16>) {
  %0 = dl.embedding %i, %t : (tensor<?x20xi32>, tensor<100x4xf16>) -> tensor<?x20x4xf16>
  %1 = dl.embedding %l, %t : (tensor<?x20xi64>, tensor<100x4xf16>) -> tensor<?x20x4xf16>
  return %0, %1 : tensor<?x20x4xf16>, tensor<?x20x4xf16>
}

// Tests lstm returning the last state (with a bias) and every state (without
// one); units = 4, so the gates are 16 wide.
// CHECK-LABEL: func @lstm
// CHECK-SAME: (%[[X:.*]]: tensor<?x20x8xf32>, %[[K:.*]]: tensor<8x16xf32>, %[[R:.*]]: tensor<4x16xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK-NEXT: dl.lstm %[[X]], %[[K]], %[[R]], %[[B]] : (tensor<?x20x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<16xf32>) -> tensor<?x4xf32>
// CHECK-NEXT: dl.lstm %[[X]], %[[K]], %[[R]] {return_sequences} : (tensor<?x20x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<?x20x4xf32>
func.func @lstm(%x: tensor<?x20x8xf32>, %k: tensor<8x16xf32>, %r: tensor<4x16xf32>, %b: tensor<16xf32>) -> (tensor<?x4xf32>, tensor<?x20x4xf32>) {
  %0 = dl.lstm %x, %k, %r, %b : (tensor<?x20x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<16xf32>) -> tensor<?x4xf32>
  %1 = dl.lstm %x, %k, %r {return_sequences} : (tensor<?x20x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<?x20x4xf32>
  return %0, %1 : tensor<?x4xf32>, tensor<?x20x4xf32>
}

// Tests every activation and their attributes.
// CHECK-LABEL: func @activations
// CHECK-SAME: (%[[X:.*]]: tensor<?x10xf32>)
// CHECK-NEXT: %[[R:.*]] = dl.relu %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: %[[S:.*]] = dl.sigmoid %[[R]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: %[[T:.*]] = dl.tanh %[[S]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: %[[G:.*]] = dl.gelu %[[T]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: %[[A:.*]] = dl.gelu %[[G]] {approximate} : (tensor<?x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: %[[L:.*]] = dl.leaky_relu %[[A]] {negative_slope = 2.000000e-01 : f64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: %[[M:.*]] = dl.softmax %[[L]] {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: dl.softmax %[[M]] {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
func.func @activations(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %0 = dl.relu %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %1 = dl.sigmoid %0 : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %2 = dl.tanh %1 : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %3 = dl.gelu %2 : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %4 = dl.gelu %3 {approximate} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %5 = dl.leaky_relu %4 {negative_slope = 0.2 : f64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %6 = dl.softmax %5 {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %7 = dl.softmax %6 {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %7 : tensor<?x10xf32>
}

// Tests add of three inputs; a known dimension of one input fills a dynamic
// one of another.
// CHECK-LABEL: func @add
// CHECK-SAME: (%[[A:.*]]: tensor<?x8xf32>, %[[B:.*]]: tensor<?x?xf32>, %[[C:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: dl.add %[[A]], %[[B]], %[[C]] : (tensor<?x8xf32>, tensor<?x?xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
func.func @add(%a: tensor<?x8xf32>, %b: tensor<?x?xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = dl.add %a, %b, %c : (tensor<?x8xf32>, tensor<?x?xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// Tests concat along the last axis (negative) and along axis 1.
// CHECK-LABEL: func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<?x4x32xf32>, %[[B:.*]]: tensor<?x4x16xf32>)
// CHECK-NEXT: dl.concat %[[A]], %[[B]] {axis = -1 : i64} : (tensor<?x4x32xf32>, tensor<?x4x16xf32>) -> tensor<?x4x48xf32>
// CHECK-NEXT: dl.concat %[[A]], %[[A]], %[[A]] {axis = 1 : i64} : (tensor<?x4x32xf32>, tensor<?x4x32xf32>, tensor<?x4x32xf32>) -> tensor<?x12x32xf32>
func.func @concat(%a: tensor<?x4x32xf32>, %b: tensor<?x4x16xf32>) -> (tensor<?x4x48xf32>, tensor<?x12x32xf32>) {
  %0 = dl.concat %a, %b {axis = -1 : i64} : (tensor<?x4x32xf32>, tensor<?x4x16xf32>) -> tensor<?x4x48xf32>
  %1 = dl.concat %a, %a, %a {axis = 1 : i64} : (tensor<?x4x32xf32>, tensor<?x4x32xf32>, tensor<?x4x32xf32>) -> tensor<?x12x32xf32>
  return %0, %1 : tensor<?x4x48xf32>, tensor<?x12x32xf32>
}

// Tests that the layer ops accept f16, bf16 and f64 and keep the element type.
// CHECK-LABEL: func @element_types
// CHECK-NEXT: dl.conv2d %{{.*}}, %{{.*}} {{.*}} : (tensor<?x8x8x3xf16>, tensor<3x3x3x4xf16>) -> tensor<?x6x6x4xf16>
// CHECK-NEXT: dl.relu %{{.*}} : (tensor<?x6x6x4xf16>) -> tensor<?x6x6x4xf16>
// CHECK-NEXT: dl.dense %{{.*}}, %{{.*}} : (tensor<?x16xbf16>, tensor<16x2xbf16>) -> tensor<?x2xbf16>
// CHECK-NEXT: dl.dense %{{.*}}, %{{.*}} : (tensor<?x4xf64>, tensor<4x2xf64>) -> tensor<?x2xf64>
// CHECK-NEXT: dl.softmax %{{.*}} {axis = -1 : i64} : (tensor<?x2xf64>) -> tensor<?x2xf64>
func.func @element_types(%h: tensor<?x8x8x3xf16>, %hk: tensor<3x3x3x4xf16>, %b: tensor<?x16xbf16>, %bk: tensor<16x2xbf16>, %d: tensor<?x4xf64>, %dk: tensor<4x2xf64>) -> (tensor<?x6x6x4xf16>, tensor<?x2xbf16>, tensor<?x2xf64>) {
  %0 = dl.conv2d %h, %hk {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x8x8x3xf16>, tensor<3x3x3x4xf16>) -> tensor<?x6x6x4xf16>
  %1 = dl.relu %0 : (tensor<?x6x6x4xf16>) -> tensor<?x6x6x4xf16>
  %2 = dl.dense %b, %bk : (tensor<?x16xbf16>, tensor<16x2xbf16>) -> tensor<?x2xbf16>
  %3 = dl.dense %d, %dk : (tensor<?x4xf64>, tensor<4x2xf64>) -> tensor<?x2xf64>
  %4 = dl.softmax %3 {axis = -1 : i64} : (tensor<?x2xf64>) -> tensor<?x2xf64>
  return %1, %2, %4 : tensor<?x6x6x4xf16>, tensor<?x2xbf16>, tensor<?x2xf64>
}

// Tests a static batch: it flows through to the results.
// CHECK-LABEL: func @static_batch
// CHECK-NEXT: dl.conv2d {{.*}} : (tensor<32x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<32x26x26x8xf32>
// CHECK-NEXT: dl.global_avg_pool2d {{.*}} : (tensor<32x26x26x8xf32>) -> tensor<32x8xf32>
func.func @static_batch(%x: tensor<32x28x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<32x8xf32> {
  %0 = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<32x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<32x26x26x8xf32>
  %1 = dl.global_avg_pool2d %0 : (tensor<32x26x26x8xf32>) -> tensor<32x8xf32>
  return %1 : tensor<32x8xf32>
}

// Tests that a result may be written less refined than the shape function
// infers (all dimensions dynamic, or unranked), and that an unranked operand
// gives layers nothing to check; the written types are kept as they are.
// CHECK-LABEL: func @less_refined_results
// CHECK-NEXT: %[[C:.*]] = dl.conv2d {{.*}} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x?x?x?xf32>
// CHECK-NEXT: %[[R:.*]] = dl.relu %[[C]] : (tensor<?x?x?x?xf32>) -> tensor<*xf32>
// CHECK-NEXT: %[[P:.*]] = dl.max_pool2d %[[R]] {{.*}} : (tensor<*xf32>) -> tensor<*xf32>
// CHECK-NEXT: dl.flatten %[[P]] : (tensor<*xf32>) -> tensor<?x?xf32>
func.func @less_refined_results(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<?x?xf32> {
  %0 = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x?x?x?xf32>
  %1 = dl.relu %0 : (tensor<?x?x?x?xf32>) -> tensor<*xf32>
  %2 = dl.max_pool2d %1 {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  %3 = dl.flatten %2 : (tensor<*xf32>) -> tensor<?x?xf32>
  return %3 : tensor<?x?xf32>
}

// Tests the training setup with every attribute, a data source and two data
// steps; the attribute dictionary prints sorted by name.
// CHECK-LABEL: dl.train_setup
// CHECK-SAME: batch_size = 32 : i64
// CHECK-SAME: data_source = #dl.config<"text", {path = "/usr/share/games/fortunes", sequence_length = 20 : i64, vocab_size = 1000 : i64}>
// CHECK-SAME: data_transforms = [#dl.config<"rescale", {offset = 0.000000e+00 : f64, scale = 5.000000e-01 : f64}>, #dl.config<"random_flip", {mode = "vertical"}>]
// CHECK-SAME: epochs = 3 : i64
// CHECK-SAME: loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 1.000000e-01 : f64}>
// CHECK-SAME: metrics = [#dl.config<"accuracy", {}>, #dl.config<"top_k_accuracy", {k = 5 : i64}>]
// CHECK-SAME: optimizer = #dl.config<"adam", {amsgrad = false, beta_1 = 9.000000e-01 : f64, beta_2 = 0.99899999999999999 : f64, epsilon = 9.9999999999999995E-8 : f64, learning_rate = 1.000000e-03 : f64}>
// CHECK-SAME: precision = #dl<precision mixed_bf16>
// CHECK-SAME: shuffle = false
// CHECK-SAME: validation = 2.000000e-01 : f64
dl.train_setup {
  loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.1 : f64}>,
  optimizer = #dl.config<"adam", {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64, amsgrad = false}>,
  metrics = [#dl.config<"accuracy", {}>, #dl.config<"top_k_accuracy", {k = 5 : i64}>],
  batch_size = 32 : i64, epochs = 3 : i64, precision = #dl<precision mixed_bf16>,
  data_source = #dl.config<"text", {path = "/usr/share/games/fortunes", vocab_size = 1000 : i64, sequence_length = 20 : i64}>,
  data_transforms = [#dl.config<"rescale", {scale = 0.5 : f64, offset = 0.0 : f64}>, #dl.config<"random_flip", {mode = "vertical"}>],
  validation = 0.2 : f64, shuffle = false}

// Tests that layer locations (a NameLoc around the .dl file position, as the
// frontend builds them) survive printing and parsing.
// LOC-LABEL: func @locations
// LOC: dl.conv2d {{.*}} -> tensor<?x26x26x8xf32> loc(#[[CONV:loc[0-9]+]])
// LOC-NEXT: dl.relu {{.*}} loc(#[[RELU:loc[0-9]+]])
// LOC-DAG: #[[FILE:loc[0-9]+]] = loc("model.dl":3:5)
// LOC-DAG: #[[CONV]] = loc("conv2d"(#[[FILE]]))
// LOC-DAG: #[[RELU]] = loc("conv2d/relu"(#[[FILE]]))
func.func @locations(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<?x26x26x8xf32> {
  %0 = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x26x26x8xf32> loc("conv2d"("model.dl":3:5))
  %1 = dl.relu %0 : (tensor<?x26x26x8xf32>) -> tensor<?x26x26x8xf32> loc("conv2d/relu"("model.dl":3:5))
  return %1 : tensor<?x26x26x8xf32>
}
