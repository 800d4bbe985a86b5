//===- sim_internal.h - Shared between cuda_sim.cc and sim_memory.cc -----===//
#ifndef DLC_CUDA_SIM_INTERNAL_H
#define DLC_CUDA_SIM_INTERNAL_H

#include <cstddef>

namespace dlc::sim::detail {

// Poison fills are two-byte patterns keyed on address parity, so a value read
// at any 2-byte-aligned offset is a NaN as f16, bf16, f32 and f64 (0xFFF5 /
// 0xFFF7 have all exponent bits set in every format), while the red zone and
// shared-memory fills stay distinguishable from each other and from 0xFF.
constexpr unsigned char kRedZonePattern = 0xF5;
constexpr unsigned char kSharedPoison = 0xF7;

/// Byte at even addresses = |low|, at odd addresses = 0xFF.
void fillPattern(unsigned char *p, size_t bytes, unsigned char low);
/// Offset of the first byte differing from fillPattern's, or -1.
long firstPatternMismatch(const unsigned char *p, size_t bytes, unsigned char low);

} // namespace dlc::sim::detail

#endif // DLC_CUDA_SIM_INTERNAL_H
