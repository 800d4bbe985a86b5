// RUN: dlc-opt %s -split-input-file --dlc-autodiff -verify-diagnostics

// Tests that autodiff without a training setup says where the loss comes from.
// expected-error@+1 {{autodiff needs a @forward function and a training setup}}
module {
  func.func @forward(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    return %x : tensor<?x4xf32>
  }
}

// -----

// Tests that a model with two outputs is refused (one loss per output is not
// supported yet).
module {
  // expected-error@+1 {{training needs a model with one output, this one has 2}}
  func.func @forward(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
    return %x, %x : tensor<?x4xf32>, tensor<?x4xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_steps = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that differentiating through a frozen batch_norm (inference mode) is
// reported at the op rather than computed wrongly.
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
    // expected-error@+1 {{gradients through batch_norm in inference mode (a frozen batch_norm layer) are not supported yet}}
    %y = dl.batch_norm %h, %g, %m, %v {axis = -1 : i64, momentum = 0.99 : f64, epsilon = 1.0e-3 : f64, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1>} : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
  dl.train_setup {batch_size = 32 : i64, data_steps = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
