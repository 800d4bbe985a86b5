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
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
