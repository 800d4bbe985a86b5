// RUN: dlc-opt %s -split-input-file --dlc-class-id-labels | FileCheck %s
// RUN: dlc-opt %s -split-input-file --dlc-class-id-labels --dlc-autodiff | FileCheck %s --check-prefix=GRAD

// A source of class ids: categorical_crossentropy becomes the sparse loss
// (from_logits kept), and the labels are one int32 per example.
// CHECK-LABEL: module @ids
// CHECK: dl.train_setup {{.*}}loss = #dl.config<"sparse_categorical_crossentropy", {from_logits = true}>
// GRAD-LABEL: module @ids
// GRAD: func.func @grad(%{{.*}}: tensor<?x4xf32> {dl.name = "x"}, %{{.*}}: tensor<?xi32> {dl.name = "labels"})
module @ids {
  dl.param @"d/kernel" : tensor<4x3xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x3xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x3xf32>
    %z = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    return %z : tensor<?x3xf32>
  }
  dl.train_setup {batch_size = 4 : i64, data_source = #dl.config<"fashion_mnist", {path = "/data"}>, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"categorical_crossentropy", {from_logits = true, label_smoothing = 0.0 : f64}>, metrics = [#dl.config<"accuracy", {}>], optimizer = #dl.config<"sgd", {learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// npz may hold one-hot or soft rows: the loss keeps them.
// CHECK-LABEL: module @rows
// CHECK: loss = #dl.config<"categorical_crossentropy", {from_logits = true, label_smoothing = 0.000000e+00 : f64}>
// GRAD-LABEL: module @rows
// GRAD: func.func @grad(%{{.*}}: tensor<?x4xf32> {dl.name = "x"}, %{{.*}}: tensor<?x3xf32> {dl.name = "labels"})
module @rows {
  dl.param @"d/kernel" : tensor<4x3xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x3xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x3xf32>
    %z = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    return %z : tensor<?x3xf32>
  }
  dl.train_setup {batch_size = 4 : i64, data_source = #dl.config<"npz", {train = "a.npz", test = ""}>, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"categorical_crossentropy", {from_logits = true, label_smoothing = 0.0 : f64}>, metrics = [#dl.config<"accuracy", {}>], optimizer = #dl.config<"sgd", {learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Label smoothing needs the rows (the sparse loss has no such option).
// CHECK-LABEL: module @smoothed
// CHECK: loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 1.000000e-01 : f64}>
// GRAD-LABEL: module @smoothed
// GRAD: func.func @grad(%{{.*}}: tensor<?x4xf32> {dl.name = "x"}, %{{.*}}: tensor<?x3xf32> {dl.name = "labels"})
module @smoothed {
  dl.param @"d/kernel" : tensor<4x3xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x4xf32> {dl.name = "x"}) -> tensor<?x3xf32> {
    %k = dl.weight @"d/kernel" : tensor<4x3xf32>
    %z = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    return %z : tensor<?x3xf32>
  }
  dl.train_setup {batch_size = 4 : i64, data_source = #dl.config<"idx", {train_images = "a", train_labels = "b", test_images = "", test_labels = ""}>, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.1 : f64}>, metrics = [#dl.config<"accuracy", {}>], optimizer = #dl.config<"sgd", {learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
