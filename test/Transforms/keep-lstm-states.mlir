// RUN: dlc-opt %s --split-input-file --dlc-keep-lstm-states | FileCheck %s

// Tests that a forward returning only its last state is made to return
// every state, its readers given the last step (a slice and a reshape),
// and the gradient given every state.
// CHECK-LABEL: func.func @last_state
// CHECK: %[[S:.*]] = dl.lstm %arg0, %arg1, %arg2, %arg3 {dl.precision = "{{[^"]*}}", return_sequences} : {{.*}} -> tensor<2x5x3xf32>
// CHECK-NEXT: %[[L:.*]] = dl.slice %[[S]] {axis = 1 : i64, dl.precision = "{{[^"]*}}", start = 4 : i64} : {{.*}} -> tensor<2x1x3xf32>
// CHECK-NEXT: %[[H:.*]] = dl.reshape %[[L]] {dl.precision = "{{[^"]*}}", shape = array<i64: 3>} : {{.*}} -> tensor<2x3xf32>
// CHECK-NEXT: dl.relu %[[H]]
// CHECK: dl.lstm_grad %arg0, %arg1, %arg2, bias %arg3, %arg4 states %[[S]] : (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>, tensor<12xf32>, tensor<2x3xf32>, tensor<2x5x3xf32>)
func.func @last_state(%x: tensor<2x5x4xf32>, %k: tensor<4x12xf32>, %r: tensor<3x12xf32>, %b: tensor<12xf32>, %dy: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<4x12xf32>) {
  %h = dl.lstm %x, %k, %r, %b {dl.precision = "f32"} : (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>, tensor<12xf32>) -> tensor<2x3xf32>
  %a = dl.relu %h : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, bias %b, %dy : (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>, tensor<12xf32>, tensor<2x3xf32>) -> (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>, tensor<12xf32>)
  return %a, %dk : tensor<2x3xf32>, tensor<4x12xf32>
}

// -----

// Tests that a forward returning every state already gives them as it is.
// CHECK-LABEL: func.func @sequences
// CHECK: %[[S:.*]] = dl.lstm %arg0, %arg1, %arg2 {return_sequences}
// CHECK-NOT: dl.slice
// CHECK: dl.lstm_grad %arg0, %arg1, %arg2, %arg3 states %[[S]] {return_sequences}
func.func @sequences(%x: tensor<2x5x4xf32>, %k: tensor<4x12xf32>, %r: tensor<3x12xf32>, %dy: tensor<2x5x3xf32>) -> (tensor<2x5x3xf32>, tensor<4x12xf32>) {
  %s = dl.lstm %x, %k, %r {return_sequences} : (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>) -> tensor<2x5x3xf32>
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy {return_sequences} : (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>, tensor<2x5x3xf32>) -> (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>, tensor<12xf32>)
  return %s, %dk : tensor<2x5x3xf32>, tensor<4x12xf32>
}

// -----

// Tests that 16-bit states (mixed precision) are not given: the gradient
// would compute gates other than the forward's. Nor are the states of a
// forward that is not this gradient's (here: over the whole sequence where
// the gradient's is of the last state).
// CHECK-LABEL: func.func @not_paired
// CHECK-NOT: states
// CHECK: return
func.func @not_paired(%x: tensor<2x5x4xbf16>, %k: tensor<4x12xbf16>, %r: tensor<3x12xbf16>, %dy: tensor<2x3xbf16>, %x2: tensor<2x5x4xf32>, %k2: tensor<4x12xf32>, %r2: tensor<3x12xf32>, %dy2: tensor<2x3xf32>) -> (tensor<2x3xbf16>, tensor<4x12xbf16>, tensor<2x5x3xf32>, tensor<4x12xf32>) {
  %h = dl.lstm %x, %k, %r : (tensor<2x5x4xbf16>, tensor<4x12xbf16>, tensor<3x12xbf16>) -> tensor<2x3xbf16>
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x5x4xbf16>, tensor<4x12xbf16>, tensor<3x12xbf16>, tensor<2x3xbf16>) -> (tensor<2x5x4xbf16>, tensor<4x12xbf16>, tensor<3x12xbf16>, tensor<12xbf16>)
  %s2 = dl.lstm %x2, %k2, %r2 {return_sequences} : (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>) -> tensor<2x5x3xf32>
  %dx2, %dk2, %dr2, %db2 = dl.lstm_grad %x2, %k2, %r2, %dy2 : (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>, tensor<2x3xf32>) -> (tensor<2x5x4xf32>, tensor<4x12xf32>, tensor<3x12xf32>, tensor<12xf32>)
  return %h, %dk, %s2, %dk2 : tensor<2x3xbf16>, tensor<4x12xbf16>, tensor<2x5x3xf32>, tensor<4x12xf32>
}
