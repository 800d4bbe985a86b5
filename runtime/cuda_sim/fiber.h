//===- fiber.h - Fiber stacks and the x86-64 context switch ---------------===//
#ifndef DLC_CUDA_SIM_FIBER_H
#define DLC_CUDA_SIM_FIBER_H

#include <cstddef>

/// Saves the callee-saved registers on the current stack, stores the stack
/// pointer to *save and resumes the context saved at |load|.
extern "C" void dlc_sim_swap(void **save, void *load);
/// First "return address" of a fresh fiber: calls dlc_sim_fiber_main(r12).
extern "C" void dlc_sim_trampoline();

namespace dlc::sim::detail {

constexpr size_t kStackBytes = 64 * 1024;
constexpr size_t kCanaryBytes = 64;
constexpr unsigned char kCanary = 0xCD;

/// Fiber stacks, each above a PROT_NONE guard page, allocated for the largest
/// block seen and reused by every later block and launch. (Transparent huge
/// pages, which guard pages rule out, measured no faster per switch here and
/// cost 64 MiB of page clearing on first use.) A canary at each stack's
/// bottom catches frames that jump over the guard page.
class StackPool {
public:
  ~StackPool();
  /// Makes at least |count| stacks available; false if they cannot be mapped.
  bool reserve(size_t count);
  unsigned char *bottom(size_t i) const { return base_ + i * kStride + kGuardBytes; }
  // Tops are staggered by 64 bytes per fiber: with equal offsets modulo 4 KiB
  // every resume would hit the same L1 set.
  unsigned char *top(size_t i) const { return bottom(i) + kStackBytes - (i % 63) * 64; }

private:
  static constexpr size_t kGuardBytes = 4096;
  static constexpr size_t kStride = kStackBytes + kGuardBytes;
  unsigned char *base_ = nullptr;
  size_t count_ = 0;
};

} // namespace dlc::sim::detail

#endif // DLC_CUDA_SIM_FIBER_H
