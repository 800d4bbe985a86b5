// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that the LSTM gradient keeps each row's recomputed states and every
// step's gates (then their gradients) in its scratch (global memory): 200
// steps of 256 units, 1.2 MB a row, run where shared memory held only short
// sequences; one step's arrays stay in shared memory. Its input products
// come first, a product over all 400 rows and steps; its dx last.
// CHECK-LABEL: // lstm_grad from
// CHECK: // launch: grid (32, 13, 1), block (64, 1, 1), shared 4224 bytes
// CHECK: // then: grid (16, 1, 1), block (256, 1, 1): the recurrence in clusters of 8 blocks; batch rows per cluster: 1, units per block: 32
// CHECK: float *const H = scratch + row * 307712ll, *const Cc = H + 51456ll, *const Z = H + 102912ll;
// CHECK: #else
// CHECK: float *const H = scratch + b * 307712ll, *const C = H + 51456ll, *const Z = H + 102912ll;
// CHECK-NEXT: __shared__ float dz[1024];
// CHECK-NEXT: __shared__ float dh[256];
// CHECK-NEXT: __shared__ float dc[256];
// CHECK: // then: grid (1, 13, 1), block (64, 1, 1): 400x8 dx, sums over 1024
// CHECK-NEXT: _dx(
func.func @long_sequence(%x: tensor<2x200x8xf32>, %k: tensor<8x1024xf32>, %r: tensor<256x1024xf32>, %dy: tensor<2x256xf32>) -> tensor<2x200x8xf32> {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<2x256xf32>) -> (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<1024xf32>)
  return %dx : tensor<2x200x8xf32>
}

// -----

// Tests that a layer too wide for shared memory (2,048 units: one step's
// gate gradients, dh and dc are 48 KB) keeps one step's arrays in its row's
// scratch too, after the states and gates, and uses no shared memory.
// CHECK-LABEL: // lstm_grad from
// CHECK: _recurrence(
// CHECK: float *const H = scratch + b * 2473984ll, *const C = H + 411648ll, *const Z = H + 823296ll;
// CHECK-NEXT: float *const dz = H + 2461696ll + 0ll;
// CHECK-NEXT: float *const dh = H + 2461696ll + 8192ll;
// CHECK-NEXT: float *const dc = H + 2461696ll + 10240ll;
// CHECK-NOT: __shared__
// CHECK: // then:
func.func @wide_grad(%x: tensor<2x200x8xf32>, %k: tensor<8x8192xf32>, %r: tensor<2048x8192xf32>, %dy: tensor<2x2048xf32>) -> tensor<2x200x8xf32> {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x8192xf32>, tensor<2048x8192xf32>, tensor<2x2048xf32>) -> (tensor<2x200x8xf32>, tensor<8x8192xf32>, tensor<2048x8192xf32>, tensor<8192xf32>)
  return %dx : tensor<2x200x8xf32>
}

// -----

// Tests that the forward pass of so wide a layer takes one row a block and
// keeps its arrays in the block's part of its scratch, after the input
// products of every step (2 rows x 5 steps x 8,192 gates).
// CHECK-LABEL: // lstm from
// CHECK: // launch: grid (256, 1, 1), block (64, 1, 1)
// CHECK: scratch[m * 8192ll + c] = v;
// CHECK: // then: grid (2, 1, 1), block (256, 1, 1): the recurrence, batch rows per block: 1
// CHECK-NEXT: _recurrence(
// CHECK-NEXT: float *const hs = scratch + 81920ll + (long long)blockIdx.x * 12288ll + 0ll;
// CHECK-NEXT: float *const cs = scratch + 81920ll + (long long)blockIdx.x * 12288ll + 2048ll;
// CHECK-NEXT: float *const z = scratch + 81920ll + (long long)blockIdx.x * 12288ll + 4096ll;
// CHECK-NOT: __shared__
// CHECK: }
func.func @wide_forward(%x: tensor<2x5x8xf32>, %k: tensor<8x8192xf32>, %r: tensor<2048x8192xf32>) -> tensor<2x2048xf32> {
  %h = dl.lstm %x, %k, %r : (tensor<2x5x8xf32>, tensor<8x8192xf32>, tensor<2048x8192xf32>) -> tensor<2x2048xf32>
  return %h : tensor<2x2048xf32>
}

// -----

// Tests that the input products of all 15 rows and steps (and the bias)
// are stored into each row's Z first; that the recurrence then adds h times
// the recurrent kernel and activates in place, once; that going back each
// thread turns its unit's four gates into their gradients in place, and dh
// is a warp's sum per unit; and that the weight gradients are a later
// launch, a product over all 15 rows and steps (k) with one output row per
// kernel row (the step's input), recurrent-kernel row (the state before the
// step) and the bias (one), each output stored once: no atomics.
func.func @weight_gradients(%x: tensor<3x5x2xf32>, %k: tensor<2x16xf32>, %r: tensor<4x16xf32>, %b: tensor<16xf32>, %dy: tensor<3x4xf32>) -> (tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>) {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, bias %b, %dy : (tensor<3x5x2xf32>, tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>, tensor<3x4xf32>) -> (tensor<3x5x2xf32>, tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>)
  return %dk, %dr, %db : tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>
}
//
// On sm_90 the recurrence runs in clusters (here 4 blocks of one unit
// each, a cluster per row): each block activates its gate columns with its
// recurrent-kernel slice (rows padded by one: going back, lanes read down
// its columns) and sends each step's h to every block; going
// back it turns its units' gates into their gradients, sums its slice of
// the recurrent kernel against them into a part of dh for every unit,
// stores each part into the unit's block and, after the cluster barrier,
// adds the parts it received in rank order.
// CHECK-LABEL: // lstm_grad from
// CHECK: As[kk][mm] = m < 15ll && k < 2ll ? (float)(in0[m * 2ll + k]) : 0.0f;
// CHECK: scratch[(m / 5ll) * 128ll + 48ll + (m % 5ll) * 16ll + c] = v + in3[c];
// CHECK: // then: grid (12, 1, 1), block (256, 1, 1): the recurrence in clusters of 4 blocks; batch rows per cluster: 1, units per block: 1
// CHECK-NEXT: #if
// CHECK-NEXT: __cluster_dims__(4, 1, 1) __launch_bounds__(256) [[GRAD:k_lstm_grad_[0-9a-f]+_recurrence]](
// CHECK-NEXT: __shared__ float ks[20ll];
// CHECK-NEXT: __shared__ float dzs[4ll], parts[2][4][1ll], dhs[1ll], dcs[1ll];
// CHECK-NEXT: __shared__ float hs[2][4ll];
// CHECK: acc += h[r * 4ll + u] * ks[u * 5ll + j];
// CHECK: static_cast<float *>(__cluster_map_shared_rank(&hs[(t + 1) % 2][0], b))[r * 4ll + unit] = hv;
// CHECK: for (long long t = 4ll; t >= 0; --t, buf ^= 1) {
// CHECK: dz[uu] = a[unit] = dcell * cand * in * (1.0f - in);
// CHECK: sum += ks[u * 5ll + j] * dzs[r * 4ll + j];
// CHECK: static_cast<float *>(__cluster_map_shared_rank(&parts[buf][q][0], (unsigned)(u / 1ll)))[r * 1ll + u % 1ll] = sum;
// CHECK-NEXT: }
// CHECK-NEXT: __cluster_barrier_arrive();
// CHECK-NEXT: __cluster_barrier_wait();
// CHECK: for (int from = 0; from < 4; ++from)
// CHECK-NEXT: sum += parts[buf][from][e];
// CHECK: #else
// CHECK-NEXT: __launch_bounds__(256) [[GRAD]](
// CHECK: for (long long r = q; r < 1 && group + r < 3ll; r += 4) {
// CHECK: *const Z = H + 48ll;
// CHECK: for (long long t = 0; t < 5ll; ++t) {
// CHECK-NEXT: float *const a = Z + t * 16ll;
// CHECK: float acc = a[g];
// CHECK-NEXT: for (long long u = 0; u < 4ll; ++u)
// CHECK-NEXT: acc += h[u] * in2[u * 16ll + g];
// CHECK-NEXT: a[g] = g >= 8ll && g < 12ll ?
// CHECK: for (long long t = 4ll; t >= 0; --t) {
// CHECK-NEXT: float *const a = Z + t * 16ll;
// CHECK: dz[u] = a[u] = dcell * cand * in * (1.0f - in);
// CHECK: for (long long u = threadIdx.x / 32; u < 4ll; u += 8) {
// CHECK: sum += __shfl_xor_sync(0xffffffffu, sum, o);
// CHECK: // then: grid (1, 1, 1), block (64, 1, 1): 7x16 weight gradients, sums over 15
// CHECK-NEXT: _weights(
// CHECK: As[kk][mm] = m < 7ll && k < 15ll ? (float)(m < 2ll ? in0[k * 2ll + m] : m < 6ll ? scratch[(k / 5ll) * 128ll + (k % 5ll) * 4ll + m - 2ll] : 1.0f) : 0.0f;
// CHECK: Bs[kk][cc] = c < 16ll && k < 15ll ? (float)(scratch[(k / 5ll) * 128ll + 48ll + (k % 5ll) * 16ll + c]) : 0.0f;
// CHECK: if (m < 2ll) [[DK:out[0-9]]][m * 16ll + c] = v; else if (m < 6ll) [[DR:out[0-9]]][(m - 2ll) * 16ll + c] = v; else [[DB:out[0-9]]][c] = v;
// CHECK-NOT: _dx(
// CHECK-NOT: atomicAdd

// -----

// Tests that the forward recurrence of 128 rows spreads over thread-block
// clusters on sm_90: 32 clusters of 8 blocks (4 rows each, 256 blocks for
// 132 SMs), each block owning 16 of the 128 units, their 64 gate columns of
// the recurrent kernel copied into its shared memory once; every step each
// block stores its units' new h into all 8 blocks' shared memory (the
// other buffer of two) and waits at one cluster barrier. Below sm_90 the
// same grid runs a row per block, the cluster's first 4 blocks taking one
// row each.
// CHECK-LABEL: // lstm from
// CHECK: // then: grid (256, 1, 1), block (256, 1, 1): the recurrence in clusters of 8 blocks; batch rows per cluster: 4, units per block: 16
// CHECK-NEXT: #if (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900) || (!defined(__CUDA_ARCH__) && DLC_SIM_ARCH >= 900)
// CHECK-NEXT: __cluster_dims__(8, 1, 1) __launch_bounds__(256) [[ENTRY:k_lstm_[0-9a-f]+_recurrence]](
// CHECK-NEXT: __shared__ float hs[2][512ll], cs[64ll], z[256ll];
// CHECK-NEXT: __shared__ float ks[8192ll];
// CHECK-NEXT: const long long q = __clusterRelativeBlockRank(), row0 = (long long)(blockIdx.x / 8) * 4;
// CHECK: ks[e] = unit < 128ll ? (float)in2[u * 512ll + (j / 16ll) * 128ll + unit] : 0.0f;
// CHECK: __cluster_barrier_arrive();
// CHECK-NEXT: __cluster_barrier_wait();
// CHECK-NEXT: for (long long t = 0; t < 3ll; ++t) {
// CHECK: acc += h[r * 128ll + u] * ks[u * 64ll + j];
// CHECK: __syncthreads();
// CHECK: for (unsigned b = 0; b < 8; ++b)
// CHECK-NEXT: static_cast<float *>(__cluster_map_shared_rank(&hs[(t + 1) % 2][0], b))[r * 128ll + unit] = hv;
// CHECK: __cluster_barrier_arrive();
// CHECK-NEXT: __cluster_barrier_wait();
// CHECK-NEXT: }
// CHECK: out0[(row0 + r) * 128ll + unit] = hs[3ll % 2][r * 128ll + unit];
// CHECK: #else
// CHECK-NEXT: __launch_bounds__(256) [[ENTRY]](
// CHECK: for (long long r = q; r < 4 && group + r < 128ll; r += 8) {
// CHECK-NEXT: const long long b = group + r;
// CHECK-NEXT: __shared__ float hs[128];
// CHECK-NEXT: __shared__ float cs[128];
// CHECK-NEXT: __shared__ float z[512];
// CHECK-NEXT: const long long row0 = b;
// CHECK: #endif
func.func @clustered_forward(%x: tensor<128x3x16xf32>, %k: tensor<16x512xf32>, %r: tensor<128x512xf32>, %b: tensor<512xf32>) -> tensor<128x128xf32> {
  %h = dl.lstm %x, %k, %r, %b : (tensor<128x3x16xf32>, tensor<16x512xf32>, tensor<128x512xf32>, tensor<512xf32>) -> tensor<128x128xf32>
  return %h : tensor<128x128xf32>
}

// -----

// Tests that a cluster block whose slice of a 256-unit recurrent kernel
// (256 x 128 columns) does not fit shared memory reads it from global
// memory every step, and that 16 rows keep a row per cluster (2 rows would
// leave 64 blocks for 132 SMs).
// CHECK-LABEL: // lstm from
// CHECK: // then: grid (128, 1, 1), block (256, 1, 1): the recurrence in clusters of 8 blocks; batch rows per cluster: 1, units per block: 32
// CHECK-NOT: ks[
// CHECK: acc += h[r * 256ll + u] * (unit < 256ll ? (float)in2[u * 1024ll + (j / 32ll) * 256ll + unit] : 0.0f);
// CHECK: #endif
func.func @kernel_too_wide_for_shared(%x: tensor<16x3x16xf32>, %k: tensor<16x1024xf32>, %r: tensor<256x1024xf32>) -> tensor<16x256xf32> {
  %h = dl.lstm %x, %k, %r : (tensor<16x3x16xf32>, tensor<16x1024xf32>, tensor<256x1024xf32>) -> tensor<16x256xf32>
  return %h : tensor<16x256xf32>
}
