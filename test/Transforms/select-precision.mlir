// RUN: dlc-opt %s --split-input-file --dlc-select-precision="policy=mixed_bf16" | FileCheck %s
// RUN: dlc-opt %s --split-input-file --dlc-select-precision="policy=mixed_fp16" | FileCheck %s --check-prefix=FP16
// RUN: dlc-opt %s --split-input-file --dlc-select-precision="policy=fp32" | FileCheck %s --check-prefix=FP32
// RUN: dlc-opt %s --split-input-file --dlc-select-precision="policy=tf32" | FileCheck %s --check-prefix=TF32

// Tests that a matrix product reads its input and its f32 master weight
// through casts to bf16, that softmax runs in f32 behind a cast back, and
// that the function keeps its f32 signature. Under fp32 nothing is cast.
// CHECK-LABEL: func.func @dense_softmax
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>) -> tensor<4x3xf32>
// CHECK: %[[W:.*]] = dl.weight @"d/kernel" : tensor<8x3xf32>
// CHECK: %[[XL:.*]] = dl.cast %[[X]] {{{.*}}to = bf16} : (tensor<4x8xf32>) -> tensor<4x8xbf16>
// CHECK: %[[WL:.*]] = dl.cast %[[W]] {{{.*}}to = bf16} : (tensor<8x3xf32>) -> tensor<8x3xbf16>
// CHECK: %[[D:.*]] = dl.dense %[[XL]], %[[WL]] {dl.precision = "a matrix product{{.*}}"} : (tensor<4x8xbf16>, tensor<8x3xbf16>) -> tensor<4x3xbf16>
// CHECK: %[[D32:.*]] = dl.cast %[[D]] {{{.*}}to = f32} : (tensor<4x3xbf16>) -> tensor<4x3xf32>
// CHECK: %[[S:.*]] = dl.softmax %[[D32]] {{.*}} -> tensor<4x3xf32>
// CHECK: return %[[S]] : tensor<4x3xf32>
// FP16-LABEL: func.func @dense_softmax
// FP16: dl.dense {{.*}} : (tensor<4x8xf16>, tensor<8x3xf16>) -> tensor<4x3xf16>
// FP32-LABEL: func.func @dense_softmax
// FP32-NOT: dl.cast
// FP32: dl.dense {{.*}}dl.precision{{.*}} : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
// FP32-NOT: dl.cast
// FP32: return
// Under tf32 nothing is cast either: the product is marked to read its f32
// operands as TF32, softmax is not.
// TF32-LABEL: func.func @dense_softmax
// TF32-NOT: dl.cast
// TF32: dl.dense {{.*}}{dl.precision = "a matrix product under tf32{{.*}}", dl.tf32} : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
// TF32-NOT: dl.tf32
// TF32: return
module {
  dl.param @"d/kernel" : tensor<8x3xf32> init glorot_uniform
  func.func @dense_softmax(%x: tensor<4x8xf32>) -> tensor<4x3xf32> {
    %k = dl.weight @"d/kernel" : tensor<8x3xf32>
    %d = dl.dense %x, %k : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
    %s = dl.softmax %d {axis = -1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
    return %s : tensor<4x3xf32>
  }
}

// -----

// Tests that an activation follows its 16-bit operand, that batch_norm runs
// in f32, and that one cast serves every reader of a value.
// CHECK-LABEL: func.func @follow_and_promote
// CHECK: %[[D:.*]] = dl.dense {{.*}} -> tensor<4x3xbf16>
// CHECK: %[[R:.*]] = dl.relu %[[D]] {{.*}} : (tensor<4x3xbf16>) -> tensor<4x3xbf16>
// CHECK: %[[R32:.*]] = dl.cast %[[R]] {{{.*}}to = f32}
// CHECK: %[[B:.*]] = dl.batch_norm %[[R32]], {{.*}} -> tensor<4x3xf32>
// CHECK: %[[A:.*]] = dl.add %[[R32]], %[[B]] {{.*}} -> tensor<4x3xf32>
// CHECK-NOT: dl.cast %[[R]]
// CHECK: dl.add %[[R32]], %[[A]]
module {
  dl.param @"d/kernel" : tensor<8x3xf32> init glorot_uniform
  dl.param @"bn/moving_mean" : tensor<3xf32> init zeros frozen
  dl.param @"bn/moving_variance" : tensor<3xf32> init ones frozen
  func.func @follow_and_promote(%x: tensor<4x8xf32>) -> tensor<4x3xf32> {
    %k = dl.weight @"d/kernel" : tensor<8x3xf32>
    %d = dl.dense %x, %k : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
    %r = dl.relu %d : (tensor<4x3xf32>) -> tensor<4x3xf32>
    %mm = dl.weight @"bn/moving_mean" : tensor<3xf32>
    %mv = dl.weight @"bn/moving_variance" : tensor<3xf32>
    %b = dl.batch_norm %r, %mm, %mv {axis = -1 : i64, epsilon = 1.0e-3 : f64, momentum = 0.99 : f64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 1>} : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    %a = dl.add %r, %b : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
    %a2 = dl.add %r, %a : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
    return %a2 : tensor<4x3xf32>
  }
}

// -----

// Tests that parameter gradients are accumulated and stored in f32: the
// kernel gradient of 16-bit operands, the bias gradient of a 16-bit dy, and
// lstm_grad's parameter gradients (its input gradient follows its operands).
// CHECK-LABEL: func.func @gradients
// CHECK: dl.dense_grad_kernel {{.*}} : (tensor<4x8xbf16>, tensor<4x3xbf16>) -> tensor<8x3xf32>
// CHECK: dl.bias_grad {{.*}} : (tensor<4x3xbf16>) -> tensor<3xf32>
// CHECK: dl.lstm_grad {{.*}} -> (tensor<2x5x4xbf16>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<8xf32>)
// Under tf32 both dense gradients read TF32; bias_grad (a sum) and the LSTM
// (its gate products stay f32 under tf32) do not.
// TF32-LABEL: func.func @gradients
// TF32: dl.dense_grad_kernel {{.*}}dl.tf32{{.*}} : (tensor<4x8xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
// TF32: dl.dense_grad_input {{.*}}dl.tf32
// TF32-NOT: dl.tf32
// TF32: return
module {
  func.func @gradients(%x: tensor<4x8xf32>, %dy: tensor<4x3xf32>, %s: tensor<2x5x4xf32>, %k: tensor<4x8xf32>, %r: tensor<2x8xf32>, %b: tensor<8xf32>, %sdy: tensor<2x2xf32>) -> (tensor<8x3xf32>, tensor<3xf32>, tensor<2x5x4xf32>, tensor<4x8xf32>) {
    %dk = dl.dense_grad_kernel %x, %dy : (tensor<4x8xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
    %dyl = dl.relu %dy : (tensor<4x3xf32>) -> tensor<4x3xf32>
    %dd = dl.dense_grad_input %dyl, %x : (tensor<4x3xf32>, tensor<4x8xf32>) -> tensor<4x3xf32>
    %db = dl.bias_grad %dd : (tensor<4x3xf32>) -> tensor<3xf32>
    %dx, %dk2, %dr, %dbias = dl.lstm_grad %s, %k, %r, bias %b, %sdy : (tensor<2x5x4xf32>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<2x2xf32>) -> (tensor<2x5x4xf32>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<8xf32>)
    return %dk, %db, %dx, %dk2 : tensor<8x3xf32>, tensor<3xf32>, tensor<2x5x4xf32>, tensor<4x8xf32>
  }
}
