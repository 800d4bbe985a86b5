// RUN: dlc-opt %s --split-input-file --dlc-autodiff --dlc-augment-on-device --verify-diagnostics | FileCheck %s

// Tests that the transforms after the last one that changes the example's
// shape (random_crop) become dl.augment ops at the head of @train_step,
// chained in data-section order with their positions, keyed by the two new
// inputs; that the model reads the last one's result; that @grad and
// @evaluate keep the loader's batch; and that the setup records the split.
// CHECK-LABEL: func.func @grad(%{{.*}}: tensor<?x6x5x3xf32> {dl.name = "image"}, %{{.*}}: tensor<?x2xf32> {dl.name = "labels"})
// CHECK-NOT: dl.augment
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[X:.*]]: tensor<?x6x5x3xf32> {dl.name = "image"}
// CHECK-SAME: tensor<i64> {dl.name = "step"}, %[[IDS:.*]]: tensor<?xi64> {dl.name = "example_ids"}, %[[SEED:.*]]: tensor<2xi64> {dl.name = "augment_seed"})
// CHECK-NEXT: %[[A:.*]] = dl.augment %[[X]], %[[IDS]], %[[SEED]] {config = #dl.config<"random_flip", {mode = "vertical"}>, position = 2 : i64}
// CHECK-NEXT: %[[B:.*]] = dl.augment %[[A]], %[[IDS]], %[[SEED]] {config = #dl.config<"random_rotation", {factor = 1.000000e-01 : f64}>, position = 3 : i64}
// CHECK-NEXT: %[[C:.*]] = dl.augment %[[B]], %[[IDS]], %[[SEED]] {config = #dl.config<"rescale", {offset = 0.000000e+00 : f64, scale = 5.000000e-01 : f64}>, position = 4 : i64}
// CHECK-NOT: %[[X]]
// CHECK: dl.conv2d %[[C]]
// CHECK-LABEL: func.func @evaluate
// CHECK-NOT: dl.augment
// CHECK: dl.train_setup
// CHECK-SAME: device_transforms_from = 2 : i64
module {
  dl.param @"c/kernel" : tensor<1x1x3x2xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x6x5x3xf32> {dl.name = "image"}) -> tensor<?x2xf32> {
    %k = dl.weight @"c/kernel" : tensor<1x1x3x2xf32>
    %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x6x5x3xf32>, tensor<1x1x3x2xf32>) -> tensor<?x6x5x2xf32>
    %p = dl.global_avg_pool2d %y : (tensor<?x6x5x2xf32>) -> tensor<?x2xf32>
    %s = dl.softmax %p {axis = -1 : i64} : (tensor<?x2xf32>) -> tensor<?x2xf32>
    return %s : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 4 : i64, data_transforms = [#dl.config<"rescale", {offset = 0.0 : f64, scale = 2.0 : f64}>, #dl.config<"random_crop", {height = 6 : i64, width = 5 : i64}>, #dl.config<"random_flip", {mode = "vertical"}>, #dl.config<"random_rotation", {factor = 0.1 : f64}>, #dl.config<"rescale", {offset = 0.0 : f64, scale = 0.5 : f64}>], epochs = 1 : i64, loss = #dl.config<"categorical_crossentropy", {from_logits = false, label_smoothing = 0.0 : f64}>, metrics = [#dl.config<"accuracy", {}>], optimizer = #dl.config<"sgd", {learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that a last transform that changes the shape leaves the step alone:
// the setup records that the loader applies all (from = their count).
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: tensor<i64> {dl.name = "step"})
// CHECK-NOT: dl.augment
// CHECK: dl.train_setup
// CHECK-SAME: device_transforms_from = 2 : i64
module {
  dl.param @"d/kernel" : tensor<12x2xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x2x2x3xf32> {dl.name = "image"}) -> tensor<?x2xf32> {
    %f = dl.flatten %x : (tensor<?x2x2x3xf32>) -> tensor<?x12xf32>
    %k = dl.weight @"d/kernel" : tensor<12x2xf32>
    %y = dl.dense %f, %k : (tensor<?x12xf32>, tensor<12x2xf32>) -> tensor<?x2xf32>
    return %y : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 4 : i64, data_transforms = [#dl.config<"random_flip", {mode = "horizontal"}>, #dl.config<"resize", {height = 2 : i64, interpolation = "bilinear", width = 2 : i64}>], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that a transform that does not fit the model's input is an error at
// the training setup.
module {
  dl.param @"d/kernel" : tensor<12x2xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x2x2x3xf32> {dl.name = "image"}) -> tensor<?x2xf32> {
    %f = dl.flatten %x : (tensor<?x2x2x3xf32>) -> tensor<?x12xf32>
    %k = dl.weight @"d/kernel" : tensor<12x2xf32>
    %y = dl.dense %f, %k : (tensor<?x12xf32>, tensor<12x2xf32>) -> tensor<?x2xf32>
    return %y : tensor<?x2xf32>
  }
  // expected-error@+1 {{'dl.augment' op normalize has 2 values of 'mean' for 3 channels}}
  dl.train_setup {batch_size = 4 : i64, data_transforms = [#dl.config<"normalize", {mean = [0.5, 0.5], std = 0.2 : f64}>], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that a random_crop runs in the step when the source declares its
// images' size (image_folder's image_size): the step takes the uncropped
// batch in place of the model's input.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[RAW:.*]]: tensor<?x9x10x3xf32> {dl.name = "image/uncropped"}, %{{.*}}: tensor<?x2xf32> {dl.name = "labels"}
// CHECK-NEXT: %[[C:.*]] = dl.augment %[[RAW]], %{{.*}}, %{{.*}} {config = #dl.config<"random_crop", {height = 7 : i64, width = 6 : i64}>, position = 0 : i64} : (tensor<?x9x10x3xf32>, tensor<?xi64>, tensor<2xi64>) -> tensor<?x7x6x3xf32>
// CHECK-NEXT: dl.augment %[[C]], {{.*}}random_flip
// CHECK: dl.train_setup
// CHECK-SAME: device_transforms_from = 0 : i64
module {
  dl.param @"c/kernel" : tensor<1x1x3x2xf32> init glorot_uniform
  func.func @forward(%x: tensor<?x7x6x3xf32> {dl.name = "image"}) -> tensor<?x2xf32> {
    %k = dl.weight @"c/kernel" : tensor<1x1x3x2xf32>
    %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x7x6x3xf32>, tensor<1x1x3x2xf32>) -> tensor<?x7x6x2xf32>
    %p = dl.global_avg_pool2d %y : (tensor<?x7x6x2xf32>) -> tensor<?x2xf32>
    return %p : tensor<?x2xf32>
  }
  dl.train_setup {batch_size = 4 : i64, data_source = #dl.config<"image_folder", {image_size = array<i64: 9, 10>, path = "unused", test = ""}>, data_transforms = [#dl.config<"random_crop", {height = 7 : i64, width = 6 : i64}>, #dl.config<"random_flip", {mode = "horizontal"}>], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 0.1 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
