// RUN: dlc-opt %s -split-input-file --dlc-autodiff | FileCheck %s

// Tests that @evaluate runs the forward pass in inference mode (dropout
// off) on the softmax output, not the logits the training loss takes, and
// returns each example's loss and each metric's score of each example: the
// categorical rule (top_k, k = 1 for accuracy, k from top_k_accuracy).
// @train_step scores its batch the same way, on the logits its loss took.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss"}, tensor<?xf32> {dl.name = "accuracy"}, tensor<?xf32> {dl.name = "top_k_accuracy"})
// CHECK: %[[Z:.*]] = dl.dropout
// CHECK: %[[SA:.*]] = dl.metric %[[Z]], %{{.*}} {k = 1 : i64, rule = "top_k", threshold = 0.000000e+00 : f64}
// CHECK-NEXT: %[[ST:.*]] = dl.metric %[[Z]], %{{.*}} {k = 2 : i64, rule = "top_k", threshold = 0.000000e+00 : f64}
// CHECK-NEXT: return %{{.*}}, %[[SA]], %[[ST]]
// CHECK-LABEL: func.func @evaluate
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32> {dl.name = "x"}, %[[Y:.*]]: tensor<?x3xf32> {dl.name = "labels"})
// CHECK-SAME: -> (tensor<?xf32> {dl.name = "loss"}, tensor<?xf32> {dl.name = "accuracy"}, tensor<?xf32> {dl.name = "top_k_accuracy"})
// CHECK: %[[D:.*]] = dl.dropout %{{.*}} {rate = 5.000000e-01 : f64} :
// CHECK: %[[P:.*]] = dl.softmax
// CHECK-NEXT: %[[L:.*]] = dl.example_loss %[[P]], %[[Y]] {config = #dl.config<"categorical_crossentropy", {from_logits = false
// CHECK-NEXT: %[[A:.*]] = dl.metric %[[P]], %[[Y]] {k = 1 : i64, rule = "top_k", threshold = 5.000000e-01 : f64}
// CHECK-NEXT: %[[T:.*]] = dl.metric %[[P]], %[[Y]] {k = 2 : i64, rule = "top_k", threshold = 5.000000e-01 : f64}
// CHECK-NEXT: return %[[L]], %[[A]], %[[T]]
module {
  dl.param @"d/kernel" : tensor<4x3xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x3xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x3xf32>
    %z = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    %d = dl.dropout %z {rate = 0.5 : f64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
    %p = dl.softmax %d {axis = -1 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
    return %p : tensor<?x3xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>, metrics = [#dl.config<"accuracy", {}>, #dl.config<"top_k_accuracy", {k = 2 : i64}>], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests the binary rule for binary_crossentropy (prediction > 0.5 per
// output; in @train_step, whose loss takes the logits, logit > 0).
// CHECK-LABEL: func.func @train_step
// CHECK: dl.metric %{{.*}}, %{{.*}} {k = 1 : i64, rule = "binary", threshold = 0.000000e+00 : f64}
// CHECK-LABEL: func.func @evaluate
// CHECK: dl.metric %{{.*}}, %{{.*}} {k = 1 : i64, rule = "binary", threshold = 5.000000e-01 : f64} : (tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?xf32>
module {
  dl.param @"d/kernel" : tensor<4x2xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x2xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x2xf32>
    %z = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
    %p = dl.sigmoid %z : (tensor<?x2xf32>) -> tensor<?x2xf32>
    return %p : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"binary_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>, metrics = [#dl.config<"accuracy", {}>], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests class ids [N] for the sparse loss.
// CHECK-LABEL: func.func @evaluate
// CHECK-SAME: %{{.*}}: tensor<?xi32> {dl.name = "labels"}
// CHECK: dl.example_loss %{{.*}}, %{{.*}} {config = #dl.config<"sparse_categorical_crossentropy"
module {
  dl.param @"d/kernel" : tensor<4x5xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x5xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x5xf32>
    %z = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x5xf32>) -> tensor<?x5xf32>
    %p = dl.softmax %z {axis = -1 : i64} : (tensor<?x5xf32>) -> tensor<?x5xf32>
    return %p : tensor<?x5xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"sparse_categorical_crossentropy", {from_logits = false}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests a sequence of predictions [N, T, classes] (a dense layer on each
// position): each example's loss and scores cover its positions, the class
// ids keep the positions.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss"}, tensor<?xf32> {dl.name = "accuracy"})
// CHECK: dl.metric %{{.*}}, %{{.*}} {k = 1 : i64, rule = "top_k", threshold = 0.000000e+00 : f64} : (tensor<?x6x5xf32>, tensor<?x6xi32>) -> tensor<?xf32>
// CHECK-LABEL: func.func @evaluate
// CHECK-SAME: (%{{.*}}: tensor<?x6x4xf32> {dl.name = "x"}, %[[Y:.*]]: tensor<?x6xi32> {dl.name = "labels"})
// CHECK-SAME: -> (tensor<?xf32> {dl.name = "loss"}, tensor<?xf32> {dl.name = "accuracy"})
// CHECK: dl.example_loss %{{.*}}, %[[Y]] {{.*}} : (tensor<?x6x5xf32>, tensor<?x6xi32>) -> tensor<?xf32>
// CHECK-NEXT: dl.metric %{{.*}}, %[[Y]] {k = 1 : i64, rule = "top_k", threshold = 5.000000e-01 : f64} : (tensor<?x6x5xf32>, tensor<?x6xi32>) -> tensor<?xf32>
module {
  dl.param @"d/kernel" : tensor<4x5xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x6x4xf32> {dl.name = "x"}) -> tensor<?x6x5xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x5xf32>
    %z = dl.dense %x, %k : (tensor<?x6x4xf32>, tensor<4x5xf32>) -> tensor<?x6x5xf32>
    %p = dl.softmax %z {axis = -1 : i64} : (tensor<?x6x5xf32>) -> tensor<?x6x5xf32>
    return %p : tensor<?x6x5xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"sparse_categorical_crossentropy", {from_logits = false}>, metrics = [#dl.config<"accuracy", {}>], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
