// RUN: dlc-opt %s -split-input-file --dlc-infer-shapes=batch-size=32 -verify-diagnostics

// Tests that a result type written in the IR that contradicts what inference
// finds once the batch is fixed is an error, not silently overwritten.
func.func @static_batch_contradicts(%x: tensor<?x10xf32>) -> tensor<16x10xf32> {
  // expected-error@+1 {{'dl.relu' op result types 'tensor<16x10xf32>' contradict the inferred 'tensor<32x10xf32>'}}
  %0 = dl.relu %x : (tensor<?x10xf32>) -> tensor<16x10xf32>
  return %0 : tensor<16x10xf32>
}

// -----

// Tests that a contradiction hidden behind an unranked value is found once
// the value is inferred: the relu's input turns out to be 4x4, not 5x5.
func.func @unranked_hides_contradiction(%x: tensor<?x4x4x1xf32>) -> tensor<?x5x5x1xf32> {
  %0 = dl.relu %x : (tensor<?x4x4x1xf32>) -> tensor<*xf32>
  // expected-error@+1 {{'dl.relu' op result types 'tensor<?x5x5x1xf32>' contradict the inferred 'tensor<32x4x4x1xf32>'}}
  %1 = dl.relu %0 : (tensor<*xf32>) -> tensor<?x5x5x1xf32>
  return %1 : tensor<?x5x5x1xf32>
}
