// RUN: dlc-opt %s -split-input-file --dlc-autodiff -verify-diagnostics

// Tests that autodiff without a training setup says where the loss comes from.
// expected-error@+1 {{autodiff needs a @forward function and a training setup}}
module {
  func.func @forward(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    return %x : tensor<?x4xf32>
  }
}

// -----

// Tests that a setup with one loss per output has one for each output.
module {
  func.func @forward(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
    return %x, %x : tensor<?x4xf32>, tensor<?x4xf32>
  }
  // expected-error@+1 {{'dl.train_setup' op has 1 losses for 2 model outputs}}
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = [#dl.config<"mse", {}>], metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that loss weights are factors of at least 0, one per output.
module {
  func.func @forward(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
    return %x, %x : tensor<?x4xf32>, tensor<?x4xf32>
  }
  // expected-error@+1 {{'dl.train_setup' op loss weights must be finite and not negative, got -1}}
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, loss_weights = array<f64: 1.0, -1.0>, metrics = [], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}

// -----

// Tests that a metric scores an output the model has.
module {
  func.func @forward(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
    return %x, %x : tensor<?x4xf32>, tensor<?x4xf32>
  }
  // expected-error@+1 {{'dl.train_setup' op metric output 2 is not an output of the model}}
  dl.train_setup {batch_size = 32 : i64, data_transforms = [], epochs = 1 : i64, loss = #dl.config<"mse", {}>, metric_outputs = array<i64: 2>, metrics = [#dl.config<"accuracy", {}>], optimizer = #dl.config<"sgd", {learning_rate = 1.0e-2 : f64, momentum = 0.0 : f64, nesterov = false}>, precision = #dl<precision fp32>, shuffle = true, validation = "test"}
}
