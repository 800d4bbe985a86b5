// RUN: dlc-opt %s --split-input-file --dlc-infer-shapes="batch-size=2" --dlc-autodiff --dlc-select-precision --dlc-scale-loss | FileCheck %s

// Tests that under mixed_fp16 the training step keeps dynamic loss scaling's
// state in an optimizer parameter with Keras' initial scale, multiplies the
// loss gradient by it, checks every parameter gradient once before the first
// update, hands the verdict to each update and stores the new state; that
// the setup records the loss scaling applied; and that @grad (gradients as
// they are) is not scaled.
// CHECK-LABEL: module @fp16
// CHECK-LABEL: func.func @grad
// CHECK: dl.loss_grad %{{[^,]*}}, %{{[^,]*}} {config
// CHECK: dl.param @"optimizer/loss_scale" : tensor<5xf32> init constant(dense<[3.276800e+04, 0.000000e+00, 0.000000e+00, 1.000000e+00, 3.276800e+04]> : tensor<5xf32>) frozen slot of "optimizer"
// CHECK-LABEL: func.func @train_step
// CHECK-NEXT: %[[STATE:.*]] = dl.weight @"optimizer/loss_scale" : tensor<5xf32>
// CHECK: dl.loss_grad %{{[^,]*}}, %{{[^,]*}}, %[[STATE]] {config
// CHECK: %[[NEXT:.*]] = dl.loss_scale_update %[[STATE]], %[[G0:[^,]*]], %[[G1:[^,]*]], %[[G2:[^,]*]], %[[G3:[^ ]*]] {dl.precision = "{{.*}}", growth_steps = 2000 : i64} : (tensor<5xf32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<5xf32>
// CHECK-NOT: dl.loss_scale_update
// CHECK: dl.optimizer_update %{{[^,]*}}, %[[G0]], %{{[^ ]*}} loss_scale %[[NEXT]] {config
// CHECK: dl.optimizer_update %{{[^,]*}}, %[[G1]], %{{[^ ]*}} loss_scale %[[NEXT]] {config
// CHECK: dl.optimizer_update %{{[^,]*}}, %[[G2]], %{{[^ ]*}} loss_scale %[[NEXT]] {config
// CHECK: dl.optimizer_update %{{[^,]*}}, %[[G3]], %{{[^ ]*}} loss_scale %[[NEXT]] {config
// CHECK: dl.assign @"optimizer/loss_scale", %[[NEXT]] : tensor<5xf32>
// CHECK: dl.train_setup
// CHECK-SAME: loss_scale = #dl.config<"dynamic", {growth_steps = 2000 : i64, initial_scale = 3.276800e+04 : f64}>
module @fp16 {
  dl.param @"dense/kernel" : tensor<4x3xf32> init glorot_uniform
  dl.param @"dense/bias" : tensor<3xf32> init zeros
  dl.param @"dense_1/kernel" : tensor<3x2xf32> init glorot_uniform
  dl.param @"dense_1/bias" : tensor<2xf32> init zeros
  func.func @forward(%arg0: tensor<?x4xf32> {dl.name = "x"}) -> (tensor<?x2xf32> {dl.name = "dense_1"}) {
    %0 = dl.weight @"dense/kernel" : tensor<4x3xf32>
    %1 = dl.weight @"dense/bias" : tensor<3xf32>
    %2 = dl.dense %arg0, %0, %1 : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    %3 = dl.relu %2 : (tensor<?x3xf32>) -> tensor<?x3xf32>
    %4 = dl.weight @"dense_1/kernel" : tensor<3x2xf32>
    %5 = dl.weight @"dense_1/bias" : tensor<2xf32>
    %6 = dl.dense %3, %4, %5 : (tensor<?x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    %7 = dl.softmax %6 {axis = -1 : i64} : (tensor<?x2xf32>) -> tensor<?x2xf32>
    return %7 : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 2 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.000000e+00 : f64}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>, precision = #dl<precision mixed_fp16>, shuffle = true, validation = "test"}
}

// -----

// Tests that bf16 (an f32 exponent range) gets no loss scaling, and that the
// setup says so.
// CHECK-LABEL: module @bf16
// CHECK-NOT: loss_scale_update
// CHECK-NOT: optimizer/loss_scale
// CHECK: dl.train_setup
// CHECK-SAME: loss_scale = #dl.config<"none", {}>
module @bf16 {
  dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform
  func.func @forward(%arg0: tensor<?x4xf32> {dl.name = "x"}) -> (tensor<?x2xf32> {dl.name = "dense"}) {
    %0 = dl.weight @"dense/kernel" : tensor<4x2xf32>
    %1 = dl.dense %arg0, %0 : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
    return %1 : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 2 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>, precision = #dl<precision mixed_bf16>, shuffle = true, validation = "test"}
}

// -----

// Tests that an explicit setting applies under any policy, with its own
// initial scale and growth interval.
// CHECK-LABEL: module @explicit
// CHECK: dl.param @"optimizer/loss_scale" : tensor<5xf32> init constant(dense<[8.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00, 8.000000e+00]> : tensor<5xf32>)
// CHECK: dl.loss_scale_update {{.*}}growth_steps = 10 : i64
module @explicit {
  dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform
  func.func @forward(%arg0: tensor<?x4xf32> {dl.name = "x"}) -> (tensor<?x2xf32> {dl.name = "dense"}) {
    %0 = dl.weight @"dense/kernel" : tensor<4x2xf32>
    %1 = dl.dense %arg0, %0 : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
    return %1 : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 2 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, loss_scale = #dl.config<"dynamic", {growth_steps = 10 : i64, initial_scale = 8.0 : f64}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that a model with two outputs scales both loss gradients by the one
// state (the gradients they add up to are checked once).
// CHECK-LABEL: module @two_outputs
// CHECK-LABEL: func.func @train_step
// CHECK-NEXT: %[[STATE:.*]] = dl.weight @"optimizer/loss_scale" : tensor<5xf32>
// CHECK-DAG: dl.loss_grad %{{[^,]*}}, %{{[^,]*}}, %[[STATE]] {config = #dl.config<"mse"
// CHECK-DAG: dl.loss_grad %{{[^,]*}}, %{{[^,]*}}, %[[STATE]] {config = #dl.config<"categorical_crossentropy"
// CHECK: dl.loss_scale_update %[[STATE]]
// CHECK-NOT: dl.loss_scale_update
module @two_outputs {
  dl.param @"a/kernel" : tensor<4x1xf32> init glorot_uniform
  dl.param @"b/kernel" : tensor<4x2xf32> init glorot_uniform
  func.func @forward(%arg0: tensor<?x4xf32> {dl.name = "x"}) -> (tensor<?x1xf32> {dl.name = "a"}, tensor<?x2xf32> {dl.name = "b"}) {
    %0 = dl.weight @"a/kernel" : tensor<4x1xf32>
    %1 = dl.dense %arg0, %0 : (tensor<?x4xf32>, tensor<4x1xf32>) -> tensor<?x1xf32>
    %2 = dl.weight @"b/kernel" : tensor<4x2xf32>
    %3 = dl.dense %arg0, %2 : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
    %4 = dl.softmax %3 {axis = -1 : i64} : (tensor<?x2xf32>) -> tensor<?x2xf32>
    return %1, %4 : tensor<?x1xf32>, tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 2 : i64, data_transforms = [], epochs = 1 : i64, loss = [#dl.config<"mse", {}>, #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>], loss_weights = array<f64: 2.0, 1.0>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision mixed_fp16>, shuffle = true, validation = "test"}
}
