//===- fiber.cc - Fiber stacks and the x86-64 context switch --------------===//
#include "runtime/cuda_sim/fiber.h"

#include <sys/mman.h>

// The context switch: saves the callee-saved registers of the System V ABI on
// the current stack, stores the stack pointer to *save, and resumes the stack
// |load|: a few ns, where glibc's swapcontext costs ~150 ns because it also
// saves the signal mask with a system call (TOOLCHAIN.md). MXCSR and the x87 control word are not switched: kernels do
// not change rounding modes. The trampoline starts a fresh fiber with its
// SimThread (parked in r12 by initStack) as the argument.
asm(R"(
    .pushsection .text
    .p2align 4
    .globl dlc_sim_swap
    .hidden dlc_sim_swap
    .type dlc_sim_swap, @function
dlc_sim_swap:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size dlc_sim_swap, .-dlc_sim_swap

    .p2align 4
    .globl dlc_sim_trampoline
    .hidden dlc_sim_trampoline
    .type dlc_sim_trampoline, @function
dlc_sim_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    andq $-16, %rsp
    call dlc_sim_fiber_main
    ud2
    .cfi_endproc
    .size dlc_sim_trampoline, .-dlc_sim_trampoline
    .popsection
)");

namespace dlc::sim::detail {

StackPool::~StackPool() {
  if (base_) munmap(base_, count_ * kStride);
}

bool StackPool::reserve(size_t count) {
  if (count <= count_) return true;
  if (base_) munmap(base_, count_ * kStride);
  base_ = nullptr, count_ = 0;
  void *p = mmap(nullptr, count * kStride, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  base_ = static_cast<unsigned char *>(p), count_ = count;
  for (size_t i = 0; i < count; ++i) mprotect(base_ + i * kStride, kGuardBytes, PROT_NONE);
  return true;
}

} // namespace dlc::sim::detail
