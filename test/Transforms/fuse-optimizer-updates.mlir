// RUN: dlc-opt %s --split-input-file --dlc-fuse | FileCheck %s

// Tests that the updates of one optimizer share one kernel (horizontal
// fusion), each parameter's write moved after it.
// CHECK-LABEL: func.func @one_kernel
// CHECK: %[[U:.*]]:3 = dl.fused "optimizer_update(3 parameters)"
// CHECK-COUNT-3: dl.optimizer_update
// CHECK-NOT: dl.optimizer_update
// CHECK: dl.assign @a, %[[U]]#0
// CHECK-NEXT: dl.assign @b, %[[U]]#1
// CHECK-NEXT: dl.assign @c, %[[U]]#2
// CHECK-NEXT: return
module {
  dl.param @a : tensor<4xf32> init zeros
  dl.param @b : tensor<2x3xf32> init zeros
  dl.param @c : tensor<5xf32> init zeros
  func.func @one_kernel(%ga: tensor<4xf32>, %gb: tensor<2x3xf32>, %gc: tensor<5xf32>, %step: tensor<i64>) {
    %a = dl.weight @a : tensor<4xf32>
    %na = dl.optimizer_update %a, %ga, %step {config = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> tensor<4xf32>
    dl.assign @a, %na : tensor<4xf32>
    %b = dl.weight @b : tensor<2x3xf32>
    %nb = dl.optimizer_update %b, %gb, %step {config = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
    dl.assign @b, %nb : tensor<2x3xf32>
    %c = dl.weight @c : tensor<5xf32>
    %nc = dl.optimizer_update %c, %gc, %step {config = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<5xf32>, tensor<5xf32>, tensor<i64>) -> tensor<5xf32>
    dl.assign @c, %nc : tensor<5xf32>
    return
  }
}

// -----

// Tests that updates clipped by their own norms (clipnorm), or by other
// rules, keep kernels of their own, and that a read of a parameter an
// earlier update writes stops the merge (it must see the new value).
// CHECK-LABEL: func.func @apart
// CHECK: dl.fused "optimizer_update"
// CHECK: dl.fused "optimizer_update"
// CHECK: dl.fused "optimizer_update"
// CHECK: dl.fused "optimizer_update"
// CHECK-NOT: parameters)
module {
  dl.param @a : tensor<4xf32> init zeros
  dl.param @b : tensor<4xf32> init zeros
  func.func @apart(%ga: tensor<4xf32>, %gb: tensor<4xf32>, %na: tensor<1xf32>, %nb: tensor<1xf32>, %step: tensor<i64>) -> tensor<4xf32> {
    %a = dl.weight @a : tensor<4xf32>
    %ua = dl.optimizer_update %a, %ga, %step grad_norm %na {config = #dl.config<"sgd", {clipnorm = 1.000000e+00 : f64, learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>, tensor<1xf32>) -> tensor<4xf32>
    dl.assign @a, %ua : tensor<4xf32>
    %b = dl.weight @b : tensor<4xf32>
    %ub = dl.optimizer_update %b, %gb, %step grad_norm %nb {config = #dl.config<"sgd", {clipnorm = 1.000000e+00 : f64, learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>, tensor<1xf32>) -> tensor<4xf32>
    dl.assign @b, %ub : tensor<4xf32>
    %a2 = dl.weight @a : tensor<4xf32>
    %va = dl.optimizer_update %a2, %ga, %step {config = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> tensor<4xf32>
    dl.assign @a, %va : tensor<4xf32>
    %a3 = dl.weight @a : tensor<4xf32>
    %wa = dl.optimizer_update %a3, %ga, %step {config = #dl.config<"sgd", {learning_rate = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false}>} : (tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> tensor<4xf32>
    dl.assign @a, %wa : tensor<4xf32>
    return %a3 : tensor<4xf32>
  }
}
