// RUN: dlc-opt %s --dlc-autodiff | FileCheck %s

// Tests that a model with two outputs takes labels for each (named
// `<output>/labels`), minimizes the sum of their weighted losses (each
// dl.loss a root of the reverse sweep, its weight on it and on its
// gradient), and logs each output's loss and metrics by the output's name.
// CHECK-LABEL: func.func @grad
// CHECK-SAME: %{{.*}}: tensor<?x4xf32> {dl.name = "x"}, %[[YP:.*]]: tensor<?x1xf32> {dl.name = "price/labels"}, %[[YD:.*]]: tensor<?xi32> {dl.name = "dept/labels"}
// CHECK: %[[LP:.*]] = dl.loss %{{.*}}, %[[YP]] {config = #dl.config<"mse", {}>, weight = 5.000000e-01 : f64}
// CHECK-NEXT: %[[LD:.*]] = dl.loss %{{.*}}, %[[YD]] {config = #dl.config<"sparse_categorical_crossentropy", {from_logits = true}>}
// CHECK-NEXT: %[[SUM:.*]] = dl.add %[[LP]], %[[LD]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-DAG: dl.loss_grad %{{.*}}, %[[YD]] {config = #dl.config<"sparse_categorical_crossentropy", {from_logits = true}>}
// CHECK-DAG: dl.loss_grad %{{.*}}, %[[YP]] {config = #dl.config<"mse", {}>, weight = 5.000000e-01 : f64}
// CHECK: return %[[SUM]],
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss"}, tensor<f32> {dl.name = "price_loss"}, tensor<f32> {dl.name = "dept_loss"}, tensor<?xf32> {dl.name = "dept_accuracy"})
// CHECK-LABEL: func.func @evaluate
// CHECK-SAME: -> (tensor<?xf32> {dl.name = "loss"}, tensor<?xf32> {dl.name = "price_loss"}, tensor<?xf32> {dl.name = "dept_loss"}, tensor<?xf32> {dl.name = "dept_accuracy"})
// CHECK: %[[EP:.*]] = dl.example_loss %{{.*}}, %{{.*}} {config = #dl.config<"mse", {}>, weight = 5.000000e-01 : f64}
// CHECK-NEXT: %[[ED:.*]] = dl.example_loss
// CHECK-NEXT: %[[ES:.*]] = dl.add %[[EP]], %[[ED]]
// CHECK-NEXT: %[[A:.*]] = dl.metric
// CHECK-NEXT: return %[[ES]], %[[EP]], %[[ED]], %[[A]]
module {
  dl.param @"p/kernel" : tensor<4x1xf32> init glorot_uniform
  dl.param @"d/kernel" : tensor<4x3xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> (tensor<?x1xf32> {dl.name = "price"}, tensor<?x3xf32> {dl.name = "dept"}) {
    %kp = dl.weight @"p/kernel" : tensor<4x1xf32>
    %price = dl.dense %x, %kp : (tensor<?x4xf32>, tensor<4x1xf32>) -> tensor<?x1xf32>
    %kd = dl.weight @"d/kernel" : tensor<4x3xf32>
    %z = dl.dense %x, %kd : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    %dept = dl.softmax %z {axis = -1 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
    return %price, %dept : tensor<?x1xf32>, tensor<?x3xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = [#dl.config<"mse", {}>, #dl.config<"sparse_categorical_crossentropy", {from_logits = false}>], loss_weights = array<f64: 0.5, 1.0>, metric_outputs = array<i64: 1>, metrics = [#dl.config<"accuracy", {}>], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
