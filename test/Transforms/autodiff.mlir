// RUN: dlc-opt %s -split-input-file --dlc-autodiff | FileCheck %s

// Tests that a dense + softmax classifier with categorical cross-entropy gets
// the loss on the logits (softmax fused into log-softmax), the gradients of
// kernel and bias, and no gradient for the input.
// CHECK-LABEL: func.func @grad
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32> {dl.name = "x"}, %[[Y:.*]]: tensor<?x3xf32> {dl.name = "labels"})
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss"}, tensor<4x3xf32> {dl.name = "dense/kernel"}, tensor<3xf32> {dl.name = "dense/bias"})
// CHECK: %[[K:.*]] = dl.weight @"dense/kernel"
// CHECK: %[[Z:.*]] = dl.dense %[[X]], %[[K]]
// CHECK-NOT: dl.softmax
// CHECK: %[[L:.*]] = dl.loss %[[Z]], %[[Y]] {config = #dl.config<"categorical_crossentropy", {from_logits = true
// CHECK: %[[DZ:.*]] = dl.loss_grad %[[Z]], %[[Y]]
// CHECK-NOT: dl.dense_grad_input
// CHECK: %[[DK:.*]] = dl.dense_grad_kernel %[[X]], %[[DZ]]
// CHECK: %[[DB:.*]] = dl.bias_grad %[[DZ]]
// CHECK: return %[[L]], %[[DK]], %[[DB]]
module {
  dl.param @"dense/kernel" : tensor<4x3xf32> init glorot_uniform
  dl.param @"dense/bias" : tensor<3xf32> init zeros
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x3xf32> {
    %k = dl.weight @"dense/kernel" : tensor<4x3xf32>
    %b = dl.weight @"dense/bias" : tensor<3xf32>
    %z = dl.dense %x, %k, %b : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    %p = dl.softmax %z {axis = -1 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
    return %p : tensor<?x3xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that a value used twice (a residual add) sums its gradients, that a
// frozen parameter gets none while the gradient still flows through it, that
// dropout reuses its mask in training mode, and that mse keeps the sigmoid
// (no logits form for it).
// CHECK-LABEL: func.func @grad
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss"}, tensor<4x4xf32> {dl.name = "a/kernel"})
// CHECK: %[[A:.*]] = dl.dense %{{.*}}, %{{.*}} :
// CHECK: %[[D:.*]] = dl.dropout %[[A]] {rate = 5.000000e-01 : f64, seed = 3 : i64, training}
// CHECK: %[[F:.*]] = dl.dense %[[D]], %[[FK:.*]] :
// CHECK: %[[S:.*]] = dl.add %[[D]], %[[F]]
// CHECK: %[[P:.*]] = dl.sigmoid %[[S]]
// CHECK: dl.loss %[[P]]
// CHECK: %[[DP:.*]] = dl.loss_grad %[[P]]
// CHECK: %[[DS:.*]] = dl.sigmoid_grad %[[P]], %[[DP]]
// CHECK: %[[DF:.*]] = dl.dense_grad_input %[[DS]], %[[FK]]
// CHECK-NOT: dl.dense_grad_kernel %[[D]]
// CHECK: %[[SUM:.*]] = dl.add %[[DS]], %[[DF]]
// CHECK: %[[DA:.*]] = dl.dropout %[[SUM]] {rate = 5.000000e-01 : f64, seed = 3 : i64, training}
// CHECK: %[[DK:.*]] = dl.dense_grad_kernel %{{.*}}, %[[DA]]
// CHECK: return %{{.*}}, %[[DK]]
module {
  dl.param @"a/kernel" : tensor<4x4xf32> init glorot_uniform
  dl.param @"f/kernel" : tensor<4x4xf32> init glorot_uniform frozen
  func.func @forward(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    %ak = dl.weight @"a/kernel" : tensor<4x4xf32>
    %a = dl.dense %x, %ak : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %d = dl.dropout %a {rate = 0.5 : f64, seed = 3 : i64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
    %fk = dl.weight @"f/kernel" : tensor<4x4xf32>
    %f = dl.dense %d, %fk : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %s = dl.add %d, %f : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
    %p = dl.sigmoid %s : (tensor<?x4xf32>) -> tensor<?x4xf32>
    return %p : tensor<?x4xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that sparse categorical cross-entropy takes int32 class ids and that
// an LSTM over embeddings differentiates into lstm_grad and embedding_grad.
// CHECK-LABEL: func.func @grad
// CHECK-SAME: %{{.*}}: tensor<?x5xi32>, %{{.*}}: tensor<?xi32> {dl.name = "labels"}
// CHECK: dl.loss {{.*}}"sparse_categorical_crossentropy", {from_logits = true}
// CHECK: dl.lstm_grad
// CHECK: dl.embedding_grad
module {
  dl.param @"embedding/embeddings" : tensor<10x3xf32> init uniform
  dl.param @"lstm/kernel" : tensor<3x8xf32> init glorot_uniform
  dl.param @"lstm/recurrent_kernel" : tensor<2x8xf32> init orthogonal
  dl.param @"lstm/bias" : tensor<8xf32> init lstm_bias
  func.func @forward(%t: tensor<?x5xi32>) -> tensor<?x2xf32> {
    %e = dl.weight @"embedding/embeddings" : tensor<10x3xf32>
    %x = dl.embedding %t, %e : (tensor<?x5xi32>, tensor<10x3xf32>) -> tensor<?x5x3xf32>
    %k = dl.weight @"lstm/kernel" : tensor<3x8xf32>
    %r = dl.weight @"lstm/recurrent_kernel" : tensor<2x8xf32>
    %b = dl.weight @"lstm/bias" : tensor<8xf32>
    %h = dl.lstm %x, %k, %r, %b : (tensor<?x5x3xf32>, tensor<3x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> tensor<?x2xf32>
    %p = dl.softmax %h {axis = -1 : i64} : (tensor<?x2xf32>) -> tensor<?x2xf32>
    return %p : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"sparse_categorical_crossentropy", {from_logits = false}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that a frozen batch_norm runs in inference mode (no `training`) and
// passes the gradient to the trainable dense below it as a per-channel scale.
// CHECK-LABEL: func.func @grad
// CHECK: %[[Y:.*]] = dl.batch_norm
// CHECK-NOT: training
// CHECK: %[[DY:.*]] = dl.loss_grad %[[Y]]
// CHECK: %[[DH:.*]] = dl.batch_norm_inference_grad %[[DY]], %{{.*}}, %{{.*}} {axis = -1 : i64, epsilon = 1.000000e-03 : f64}
// CHECK: dl.dense_grad_kernel %{{.*}}, %[[DH]]
module {
  dl.param @"d/kernel" : tensor<4x4xf32> init glorot_uniform
  dl.param @"bn/gamma" : tensor<4xf32> init ones frozen
  dl.param @"bn/moving_mean" : tensor<4xf32> init zeros frozen
  dl.param @"bn/moving_variance" : tensor<4xf32> init ones frozen
  func.func @forward(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x4xf32>
    %h = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %g = dl.weight @"bn/gamma" : tensor<4xf32>
    %m = dl.weight @"bn/moving_mean" : tensor<4xf32>
    %v = dl.weight @"bn/moving_variance" : tensor<4xf32>
    %y = dl.batch_norm %h, %g, %m, %v {axis = -1 : i64, momentum = 0.99 : f64, epsilon = 1.0e-3 : f64, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1>} : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that a cast between dense layers passes the gradient back cast to
// the input's type (here rounding it to bf16, as the forward value was).
// CHECK-LABEL: func.func @grad
// CHECK: %[[A:.*]] = dl.dense %{{.*}}, %{{.*}} :
// CHECK: %[[N:.*]] = dl.cast %[[A]] {to = bf16} : (tensor<?x4xf32>) -> tensor<?x4xbf16>
// CHECK: %[[W:.*]] = dl.cast %[[N]] {to = f32} : (tensor<?x4xbf16>) -> tensor<?x4xf32>
// CHECK: %[[DW:.*]] = dl.dense_grad_input %{{.*}}, %{{.*}} :
// CHECK: %[[DN:.*]] = dl.cast %[[DW]] {to = bf16} : (tensor<?x4xf32>) -> tensor<?x4xbf16>
// CHECK: %[[DA:.*]] = dl.cast %[[DN]] {to = f32} : (tensor<?x4xbf16>) -> tensor<?x4xf32>
// CHECK: dl.dense_grad_kernel %{{.*}}, %[[DA]]
module {
  dl.param @"a/kernel" : tensor<4x4xf32> init glorot_uniform
  dl.param @"b/kernel" : tensor<4x2xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x2xf32> {
    %ka = dl.weight @"a/kernel" : tensor<4x4xf32>
    %a = dl.dense %x, %ka : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
    %n = dl.cast %a {to = bf16} : (tensor<?x4xf32>) -> tensor<?x4xbf16>
    %w = dl.cast %n {to = f32} : (tensor<?x4xbf16>) -> tensor<?x4xf32>
    %kb = dl.weight @"b/kernel" : tensor<4x2xf32>
    %b = dl.dense %w, %kb : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
    return %b : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
