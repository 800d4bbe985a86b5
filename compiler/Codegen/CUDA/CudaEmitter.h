//===- CudaEmitter.h - dl.fused groups to CUDA C++ ------------------------===//
//
// Each dl.fused group becomes one `extern "C" __global__` function whose
// parameters are the group's inputs then its results (device pointers in
// that order), then its scratch buffer if it has one, then a pointer to the
// training step (in device memory) if it takes it, plus the launch
// configuration. The same source compiles with
// NVRTC for the GPU and with the host compiler against the CUDA emulation
// (runtime/cuda_sim) for tests without a GPU.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialects/DL/DLOps.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlc::cuda {

/// A vendor library routine that runs a group in place of generated code:
/// a LibraryCall of the bundle (runtime/schemas/bundle.fbs), whose routine
/// states its contract (runtime/cuda/matmul.h for "matmul").
struct LibraryCallCode {
  enum class Library { kCublas, kCudnn } library = Library::kCublas;
  std::string routine;
  std::vector<std::pair<std::string, int64_t>> ints;       // its descriptor
  std::vector<std::pair<std::string, std::string>> texts;  // its descriptor
  struct Arg {
    enum class From { kInput, kResult, kScratch } from;
    unsigned index; // among the group's inputs or results (0 for the scratch)
  };
  std::vector<Arg> args; // in the routine's order
};

/// Where a kernel's matrix products run: the CUDA cores, or tensor cores on
/// 16-bit operands or on f32 operands rounded to TF32 (both summing in f32).
enum class TensorCores { kNone, k16Bit, kTf32 };

/// A further launch of a kernel's source, after the one before it has
/// finished and on the same arguments (the bundle's CudaStage): work that
/// needs every block of the launch before it done.
struct CudaStage {
  /// Another extern "C" function of the source: the emitter writes the
  /// kernel's placeholder name with a suffix, replaced as the name is.
  std::string entry;
  std::array<int64_t, 3> grid{1, 1, 1}, block{1, 1, 1};
  int64_t sharedBytes = 0; // static, as CudaKernel's
  /// Blocks per thread-block cluster along x (the source's __cluster_dims__
  /// for sm_90 and later; the grid's x is a multiple).
  int64_t clusterBlocks = 1;
  /// Its part of the kernel's counted flops and bytes, and the fraction of
  /// its unit's peak its code reaches (CudaKernel::efficiency), for the
  /// roofline.
  int64_t flops = 0, bytes = 0;
  double efficiency = 0;
};

struct CudaKernel {
  std::string name;   // a C identifier; equal names mean equal code
  std::string family; // the CudaFamily that wrote it
  std::string source; // one translation unit
  std::array<int64_t, 3> grid{1, 1, 1}, block{1, 1, 1};
  int64_t sharedBytes = 0;
  /// Whether the kernel takes a pointer to the training step (dropout) as
  /// its last parameter, after the buffers.
  bool takesStep = false;
  /// Results the runtime must zero before the launch (reductions that
  /// accumulate with atomics), as indices into the group's results.
  std::vector<int> zeroedOutputs;
  /// Global memory private to one launch (state that does not fit shared
  /// memory), passed after the results as `float *scratch`; its contents
  /// are undefined at the start.
  int64_t scratchBytes = 0;
  /// Whether the runtime must zero the scratch before the launch (the
  /// ticket of OrderedSumTable).
  bool zeroedScratch = false;
  /// Float atomic adds to device memory it issues per launch (not those to
  /// shared memory): what contention on them costs is a roofline term.
  int64_t globalAtomics = 0;
  /// Whether its products run on tensor cores, and on which operands.
  TensorCores tensorCores = TensorCores::kNone;
  /// The fraction of the peak of the units it computes on that its code
  /// reaches with every SM busy (the roofline model, runtime/roofline.h):
  /// its family's (set before the family emits it), unless its emitter
  /// knows better.
  double efficiency = 0;
  /// Set when a library routine runs the group: then |source| only names
  /// the call (equal text, equal call) and nothing is compiled.
  std::optional<LibraryCallCode> library;
  /// Launches after the first (entry |name|, |grid|, |block|), in order.
  std::vector<CudaStage> then;
};

/// What every architecture dlc compiles for (sm_75 and later) allows a
/// launch; an emitter must pick a launch shape within them.
struct LaunchLimits {
  static constexpr int64_t kGridX = (int64_t(1) << 31) - 1, kGridYZ = 65535;
  static constexpr int64_t kBlockXY = 1024, kBlockZ = 64, kThreadsPerBlock = 1024;
  /// Static shared memory; dynamic shared memory beyond it needs an opt-in.
  static constexpr int64_t kStaticSharedBytes = 48 * 1024;
};
/// "" when |kernel|'s launch is within LaunchLimits, else what exceeds them.
std::string launchLimitError(const CudaKernel &kernel);

/// One way of writing a dl.fused group as a CUDA kernel: the CUDA part of
/// the kernel-family registry (compiler/Kernels/KernelRegistry.h), which
/// dlc-fuse asks whether a group can run and dlc-select-kernels asks which
/// family runs it.
/// Element types as bits of a set, for what each family reads and writes.
enum ElementType : unsigned {
  kF32 = 1u << 0,
  kF64 = 1u << 1,
  kF16 = 1u << 2,
  kBF16 = 1u << 3,
  kI32 = 1u << 4,
  kI64 = 1u << 5,
  /// What the families take unless they say otherwise: f32 values (stored
  /// as f32, f16 or bf16, computed in f32), i32 and i64 ids and labels.
  kComputeTypes = kF32 | kF16 | kBF16 | kI32 | kI64,
  kEveryElementType = kF32 | kF64 | kF16 | kBF16 | kI32 | kI64,
};
/// The bit of element type |t| (of a tensor type or a scalar type), 0 for
/// one the type table lacks.
unsigned elementTypeBit(mlir::Type t);
/// "f32, i32 and i64": the element types of |set| in words.
std::string describeElementTypes(unsigned set);

struct CudaFamily {
  const char *name;   // what dlc-select-kernels records on the group
  const char *runs;   // the groups it writes
  const char *launch; // its launch shape
  const char *limits; // what it cannot run, beyond LaunchLimits
  /// The fraction of the compute peak its kernels reach with every SM busy:
  /// an estimate from the shape of its code, until the GPU check measures it.
  double efficiency;
  bool (*matches)(dl::FusedOp group);
  mlir::LogicalResult (*emit)(dl::FusedOp group, CudaKernel &kernel);
  /// Whether its kernels may need scratch (CudaKernel::scratchBytes), which
  /// the memory plan must place, besides the table of ordered sums that any
  /// family may use under --deterministic.
  bool mayUseScratch = false;
  /// The element types its kernels read and write (a set of ElementType
  /// bits; each spelled through the type table, DeviceTypes.cpp).
  unsigned elementTypes = kComputeTypes;
  /// A vendor library's routine rather than generated code: chosen only
  /// under --kernels library or auto (dlc-select-kernels), where
  /// |worthCalling| says whether it should win over generated code when
  /// the compiler chooses (auto).
  bool library = false;
  bool (*worthCalling)(dl::FusedOp group) = nullptr;
};
/// The element type that group input or result |i|'s buffer holds: its
/// value's, unless foldBoundaryCasts() moved a cast into the kernel's
/// loads or stores (then the cast's source or result type).
mlir::Type inputStorage(dl::FusedOp group, unsigned i);
mlir::Type resultStorage(dl::FusedOp group, unsigned i);
/// A detached copy of |group| in which a dl.cast of a group input (read by
/// nothing else) becomes the input's load and a dl.cast whose result only
/// leaves the group becomes the result's store: boundary casts cost no
/// kernel of their own. The caller erases the copy.
dl::FusedOp foldBoundaryCasts(dl::FusedOp group);
/// Every CUDA family, in the order dlc-select-kernels prefers them.
llvm::ArrayRef<CudaFamily> cudaFamilies();

/// Which of a group's recorded CUDA plans: `kernels`, or
/// `alternative_kernels` (the one the device measures against it).
enum class Plan { kChosen, kAlternative };

/// Emits |group| with the CUDA family dlc-select-kernels recorded on it for
/// |plan|; fails with an error at its location when there is none or it
/// cannot. The name is the group's plus a hash of the code: groups with
/// equal code get equal kernels of one name.
mlir::FailureOr<CudaKernel> emitKernel(dl::FusedOp group, Plan plan = Plan::kChosen);

/// The scratch bytes of |group|'s CUDA kernels (0 when their recorded
/// families need none, or no CUDA family is recorded): the larger of its
/// two plans' when it has an alternative, which share the buffer. Emits
/// them to find out.
mlir::FailureOr<int64_t> scratchBytes(dl::FusedOp group);

} // namespace dlc::cuda
