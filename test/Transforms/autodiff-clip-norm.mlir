// RUN: dlc-opt %s --split-input-file --dlc-autodiff | FileCheck %s

// Tests that global_clipnorm takes one dl.gradient_norm of every trainable
// parameter's gradient, after the backward pass and before the first update,
// and that every update reads it.
// CHECK-LABEL: func.func @train_step
// CHECK: %[[GE:.*]] = dl.dense_grad_kernel
// CHECK: %[[GD:.*]] = dl.dense_grad_kernel
// CHECK-NEXT: %[[NORM:.*]] = dl.gradient_norm %[[GD]], %[[GE]] : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<1xf32>
// CHECK-NOT: dl.gradient_norm
// CHECK: dl.optimizer_update %{{.*}}, %[[GD]], %{{.*}} grad_norm %[[NORM]] {config = #dl.config<"sgd", {global_clipnorm = 5.000000e-01
// CHECK: dl.optimizer_update %{{.*}}, %[[GE]], %{{.*}} grad_norm %[[NORM]] {config
// CHECK-NOT: dl.gradient_norm
// CHECK: return
module {
  dl.param @"d/kernel" : tensor<4x3xf32> init glorot_uniform
  dl.param @"e/kernel" : tensor<3x2xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x2xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x3xf32>
    %h = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    %e = dl.weight @"e/kernel" : tensor<3x2xf32>
    %z = dl.dense %h, %e : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
    return %z : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {global_clipnorm = 0.5 : f64, learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that clipnorm takes each parameter's own gradient norm, right before
// its update.
// CHECK-LABEL: func.func @train_step
// CHECK: %[[GE:.*]] = dl.dense_grad_kernel
// CHECK: %[[GD:.*]] = dl.dense_grad_kernel
// CHECK: %[[ND:.*]] = dl.gradient_norm %[[GD]] : (tensor<4x3xf32>) -> tensor<1xf32>
// CHECK-NEXT: dl.optimizer_update %{{.*}}, %[[GD]], %{{.*}} grad_norm %[[ND]] {config = #dl.config<"sgd", {clipnorm = 2.500000e-01
// CHECK: %[[NE:.*]] = dl.gradient_norm %[[GE]] : (tensor<3x2xf32>) -> tensor<1xf32>
// CHECK-NEXT: dl.optimizer_update %{{.*}}, %[[GE]], %{{.*}} grad_norm %[[NE]] {config
module {
  dl.param @"d/kernel" : tensor<4x3xf32> init glorot_uniform
  dl.param @"e/kernel" : tensor<3x2xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x2xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x3xf32>
    %h = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    %e = dl.weight @"e/kernel" : tensor<3x2xf32>
    %z = dl.dense %h, %e : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
    return %z : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {clipnorm = 0.25 : f64, learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
