// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that an embedding is a coalesced gather that reads zeros for ids
// outside the table.
// CHECK-LABEL: // embedding from
// CHECK: const long long id = (long long)in0[i / 4ll], col = i % 4ll;
// CHECK-NEXT: const bool inside = id >= 0 && id < 7ll;
// CHECK-NEXT: out0[i] = inside ? in1[id * 4ll + col] : 0.0f;
func.func @lookup(%ids: tensor<2x3xi32>, %table: tensor<7x4xf32>) -> tensor<2x3x4xf32> {
  %y = dl.embedding %ids, %table : (tensor<2x3xi32>, tensor<7x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// Tests that its gradient scatter-adds with atomics (ids repeat).
// CHECK-LABEL: // embedding_grad from
// CHECK: if (inside)
// CHECK-NEXT: atomicAdd(&out0[id * 4ll + col], in1[i]);
func.func @scatter(%ids: tensor<2x3xi64>, %dy: tensor<2x3x4xf32>) -> tensor<7x4xf32> {
  %g = dl.embedding_grad %ids, %dy : (tensor<2x3xi64>, tensor<2x3x4xf32>) -> tensor<7x4xf32>
  return %g : tensor<7x4xf32>
}
