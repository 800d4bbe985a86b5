//===- cuda_sim_wmma.h - nvcuda::wmma on the CPU emulation ----------------===//
//
// CUDA's warp matrix API (mma.h is device-only) for kernels run by
// cuda_sim: 16x16x16 fragments of __half or __nv_bfloat16 and 16x16x8
// fragments of precision::tf32 (stored as float) for matrix_a and
// matrix_b, float accumulators, load_matrix_sync, store_matrix_sync,
// fill_fragment, __float_to_tf32 and mma_sync with float accumulation.
//
// Like the hardware's, a fragment is spread over the warp: each lane holds
// its share of the elements by a fixed mapping that is neither row- nor
// column-major (fragmentRow / fragmentColumn below, the pattern of PTX's
// mma.sync operand layouts). Code that treats fragment elements uniformly
// (fill, scale, convert) runs as on the GPU; code that assumes which
// element x[i] is, or a load with the wrong layout or leading dimension,
// gives wrong results here as it would there. The documented requirements
// are checked and end the launch with an error: every lane of the warp
// takes part (the calls are warp barriers), pointers are 256-bit aligned,
// and ldm is a multiple of 8 elements (16-bit) or 4 (float). A TF32
// product reads only the TF32 bits of its operands, as tensor cores do:
// values not converted by __float_to_tf32 are truncated.
//
// mma_sync gathers the warp's A and B through a per-warp exchange area
// (blocks run one at a time, so a static area is per-block storage) and
// each lane sums its own outputs in float, k in order.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CUDA_SIM_WMMA_H
#define DLC_CUDA_SIM_WMMA_H

#include "runtime/tf32.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

namespace precision {
struct tf32 {};
} // namespace precision

/// |x| rounded to TF32 as cvt.rna.tf32.f32 does (runtime/tf32.h).
inline float __float_to_tf32(float x) { return ::dlc::rt::roundToTf32(x); }

/// Lane |lane|'s element |i| of a 16x16 fragment (matrix_a and matrix_b at
/// k 16, every accumulator) is at (fragmentRow, fragmentColumn): lanes
/// 4g..4g+3 hold rows g and g + 8, two adjacent columns each, in both
/// halves of the columns.
inline int fragmentRow(int lane, int i) { return lane / 4 + 8 * ((i / 2) % 2); }
inline int fragmentColumn(int lane, int i) { return 2 * (lane % 4) + (i % 2) + 8 * (i / 4); }

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  static_assert(M == 16 && N == 16 && (K == 16 || K == 8), "the emulation has the 16x16x16 and 16x16x8 shapes");
  static_assert(std::is_same<Use, accumulator>::value
                    ? std::is_same<T, float>::value
                    : K == 16 ? (std::is_same<T, __half>::value || std::is_same<T, __nv_bfloat16>::value)
                              : std::is_same<T, precision::tf32>::value,
                "matrix_a/matrix_b hold __half or __nv_bfloat16 (k 16) or precision::tf32 (k 8), "
                "the accumulator float");
  static constexpr int num_elements = std::is_same<Use, accumulator>::value ? 8 : 16 * K / 32;
  using element_type = typename std::conditional<std::is_same<T, precision::tf32>::value, float, T>::type;
  element_type x[num_elements];
};

namespace detail {

inline ::dlc::sim::detail::Site site(const char *what) { return {"mma.h", 0, what}; }

inline int lane() {
  const auto &c = ::dlc::sim::detail::ctx();
  return int((c.tid.x + c.tid.y * c.bdim.x + c.tid.z * c.bdim.x * c.bdim.y) % 32);
}
inline int warp() {
  const auto &c = ::dlc::sim::detail::ctx();
  return int((c.tid.x + c.tid.y * c.bdim.x + c.tid.z * c.bdim.x * c.bdim.y) / 32);
}

inline void require(bool ok, const char *what) {
  if (!ok)
    ::dlc::sim::detail::trap(site(what));
}

/// A warp-collective call: the warp is whole and every lane arrives (or the
/// launch fails).
inline void collective(const char *what) {
  const auto &c = ::dlc::sim::detail::ctx();
  require((warp() + 1) * 32 <= int(c.bdim.x * c.bdim.y * c.bdim.z),
          "warp matrix call in a partial warp (all 32 lanes take part)");
  ::dlc::sim::detail::syncwarp(site(what));
}

template <typename T> inline void checkAccess(const void *p, unsigned ldm, unsigned minimum, const char *what) {
  require(reinterpret_cast<uintptr_t>(p) % 32 == 0 && ldm % (sizeof(T) == 2 ? 8 : 4) == 0 &&
              ldm >= minimum,
          what);
}

/// Where lane |lane|'s element |i| of a fragment of |Use| and depth |K|
/// lies in its tile: at k 8, A is 16x8 (rows g and g + 8, columns t and
/// t + 4 of lane 4g + t) and B 8x16 (its transpose's pattern).
template <typename Use, int K> inline void position(int lane, int i, int &row, int &column) {
  if (K == 16 || std::is_same<Use, accumulator>::value) {
    row = fragmentRow(lane, i), column = fragmentColumn(lane, i);
  } else if (std::is_same<Use, matrix_a>::value) {
    row = lane / 4 + 8 * (i % 2), column = lane % 4 + 4 * (i / 2);
  } else {
    row = lane % 4 + 4 * (i % 2), column = lane / 4 + 8 * (i / 2);
  }
}

/// A tile's rows and columns: A is 16 x K, B is K x 16.
template <typename Use, int K> constexpr int tileRows() { return std::is_same<Use, matrix_b>::value ? K : 16; }
template <typename Use, int K> constexpr int tileColumns() { return std::is_same<Use, matrix_a>::value ? K : 16; }

inline float value(float v) { return v; }
/// What a tensor core reads of a TF32 operand: its TF32 bits.
inline float tf32Value(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= 0xffffe000u;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
inline float value(__half v) { return __half2float(v); }
inline float value(__nv_bfloat16 v) { return __bfloat162float(v); }

/// Where element (row, column) of a 16x16 tile lies in memory.
inline unsigned offset(int row, int column, unsigned ldm, bool rowMajor) {
  return rowMajor ? unsigned(row) * ldm + unsigned(column) : unsigned(column) * ldm + unsigned(row);
}

/// The warps' operands during mma_sync (at most 32 warps per block).
struct Exchange {
  float a[32][16][16], b[32][16][16];
};
inline Exchange &exchange() {
  static Exchange area;
  return area;
}

} // namespace detail

template <typename Use, int K, typename T, typename Layout>
inline void fill_fragment(fragment<Use, 16, 16, K, T, Layout> &f,
                          const typename fragment<Use, 16, 16, K, T, Layout>::element_type &v) {
  for (int i = 0; i < fragment<Use, 16, 16, K, T, Layout>::num_elements; ++i)
    f.x[i] = v;
}

/// matrix_a / matrix_b: the layout is the fragment's.
template <typename Use, int K, typename T, typename Layout>
inline void load_matrix_sync(fragment<Use, 16, 16, K, T, Layout> &f,
                             const typename fragment<Use, 16, 16, K, T, Layout>::element_type *p, unsigned ldm) {
  static_assert(std::is_same<Layout, row_major>::value || std::is_same<Layout, col_major>::value,
                "a matrix_a or matrix_b fragment names its layout");
  using E = typename fragment<Use, 16, 16, K, T, Layout>::element_type;
  constexpr bool rowMajor = std::is_same<Layout, row_major>::value;
  detail::collective("load_matrix_sync");
  detail::checkAccess<E>(p, ldm, rowMajor ? detail::tileColumns<Use, K>() : detail::tileRows<Use, K>(),
                         "load_matrix_sync: pointer not 256-bit aligned or bad ldm");
  const int lane = detail::lane();
  for (int i = 0; i < fragment<Use, 16, 16, K, T, Layout>::num_elements; ++i) {
    int row, column;
    detail::position<Use, K>(lane, i, row, column);
    f.x[i] = p[detail::offset(row, column, ldm, rowMajor)];
  }
  detail::collective("load_matrix_sync");
}

template <int K>
inline void load_matrix_sync(fragment<accumulator, 16, 16, K, float> &f, const float *p, unsigned ldm,
                             layout_t layout) {
  detail::collective("load_matrix_sync");
  detail::checkAccess<float>(p, ldm, 16, "load_matrix_sync: pointer not 256-bit aligned or bad ldm");
  const int lane = detail::lane();
  for (int i = 0; i < 8; ++i)
    f.x[i] = p[detail::offset(fragmentRow(lane, i), fragmentColumn(lane, i), ldm,
                              layout == mem_row_major)];
  detail::collective("load_matrix_sync");
}

template <int K>
inline void store_matrix_sync(float *p, const fragment<accumulator, 16, 16, K, float> &f, unsigned ldm,
                              layout_t layout) {
  detail::collective("store_matrix_sync");
  detail::checkAccess<float>(p, ldm, 16, "store_matrix_sync: pointer not 256-bit aligned or bad ldm");
  const int lane = detail::lane();
  for (int i = 0; i < 8; ++i)
    p[detail::offset(fragmentRow(lane, i), fragmentColumn(lane, i), ldm, layout == mem_row_major)] =
        f.x[i];
  detail::collective("store_matrix_sync");
}

/// d = a b + c, float sums over k in order.
template <int K, typename T, typename LayoutA, typename LayoutB>
inline void mma_sync(fragment<accumulator, 16, 16, K, float> &d,
                     const fragment<matrix_a, 16, 16, K, T, LayoutA> &a,
                     const fragment<matrix_b, 16, 16, K, T, LayoutB> &b,
                     const fragment<accumulator, 16, 16, K, float> &c) {
  constexpr bool tf32 = std::is_same<T, precision::tf32>::value;
  constexpr int operandElements = 16 * K / 32;
  const int lane = detail::lane(), warp = detail::warp();
  detail::require(warp < 32, "mma_sync: more than 32 warps in a block");
  detail::collective("mma_sync");
  detail::Exchange &x = detail::exchange();
  for (int i = 0; i < operandElements; ++i) {
    int row, column;
    detail::position<matrix_a, K>(lane, i, row, column);
    x.a[warp][row][column] = tf32 ? detail::tf32Value(detail::value(a.x[i])) : detail::value(a.x[i]);
    detail::position<matrix_b, K>(lane, i, row, column);
    x.b[warp][row][column] = tf32 ? detail::tf32Value(detail::value(b.x[i])) : detail::value(b.x[i]);
  }
  detail::collective("mma_sync");
  float out[8];
  for (int i = 0; i < 8; ++i) {
    const int row = fragmentRow(lane, i), column = fragmentColumn(lane, i);
    float sum = c.x[i];
    for (int k = 0; k < K; ++k)
      sum += x.a[warp][row][k] * x.b[warp][k][column];
    out[i] = sum;
  }
  detail::collective("mma_sync"); // nobody refills the area before all have read it
  for (int i = 0; i < 8; ++i)
    d.x[i] = out[i];
}

} // namespace wmma
} // namespace nvcuda

#endif // DLC_CUDA_SIM_WMMA_H
