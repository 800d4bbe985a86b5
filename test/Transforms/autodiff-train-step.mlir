// RUN: dlc-opt %s --dlc-autodiff | FileCheck %s

// Tests that @train_step recomputes the gradients, updates each trainable
// parameter with the optimizer (Adam: slots m and v, declared as `slot of`
// parameters), assigns the results back and returns the loss and the logits the loss
// took (softmax + cross-entropy fused); the frozen
// parameter gets neither slots nor an update.
// CHECK: dl.param @"d/kernel/m" : tensor<4x3xf32> init zeros frozen slot of "d/kernel"
// CHECK: dl.param @"d/kernel/v" : tensor<4x3xf32> init zeros frozen slot of "d/kernel"
// CHECK-NOT: slot of "f/kernel"
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%{{.*}}: tensor<?x4xf32> {dl.name = "x"}, %{{.*}}: tensor<?x3xf32> {dl.name = "labels"}, %[[STEP:.*]]: tensor<i64> {dl.name = "step"}) -> (tensor<f32> {dl.name = "loss"})
// CHECK: dl.weight @"f/kernel"
// CHECK-NEXT: %[[LOGITS:.*]] = dl.dense
// CHECK-NEXT: %[[LOSS:.*]] = dl.loss %[[LOGITS]]
// CHECK: %[[G:.*]] = dl.dense_grad_kernel
// CHECK: %[[M:.*]] = dl.weight @"d/kernel/m"
// CHECK: %[[V:.*]] = dl.weight @"d/kernel/v"
// CHECK: %[[P:.*]] = dl.weight @"d/kernel"
// CHECK: %[[NEWP:.*]], %[[NEWS:.*]]:2 = dl.optimizer_update %[[P]], %[[G]], %[[STEP]], %[[M]], %[[V]] {config = #dl.config<"adam"
// CHECK: dl.assign @"d/kernel", %[[NEWP]]
// CHECK: dl.assign @"d/kernel/m", %[[NEWS]]#0
// CHECK: dl.assign @"d/kernel/v", %[[NEWS]]#1
// CHECK-NOT: dl.assign @"f/kernel"
// CHECK: return %[[LOSS]] :
module {
  dl.param @"d/kernel" : tensor<4x3xf32> init glorot_uniform
  dl.param @"f/kernel" : tensor<3x3xf32> init glorot_uniform frozen
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x3xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x3xf32>
    %h = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    %f = dl.weight @"f/kernel" : tensor<3x3xf32>
    %z = dl.dense %h, %f : (tensor<?x3xf32>, tensor<3x3xf32>) -> tensor<?x3xf32>
    %p = dl.softmax %z {axis = -1 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
    return %p : tensor<?x3xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>, metrics = [], optimizer = #dl.config<"adam", {amsgrad = false, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64, learning_rate = 1.0e-03 : f64}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
