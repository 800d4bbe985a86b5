//===- cuda_sim.cc - Fiber scheduler behind the CUDA emulation -----------===//
//
// Every CUDA thread of a block is a fiber on its own 64 KiB stack; blocks run
// one after another on the launching thread. Threads run in rounds, in the
// order the Schedule picks; a fiber runs until it reaches a synchronisation
// point and hands over to the next fiber of the round (the scheduler itself
// runs only between rounds). __syncthreads
// releases the block once every live thread waits at it; a warp op releases
// its lanes once every lane of the mask has arrived, the last arrival
// computing all results (so no second barrier is needed to protect the slots).
// When nothing can run and the block is not at a complete barrier, the kernel
// is wrong (divergent barrier, exited lane, mismatched masks): that becomes
// a Status instead of a hang.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda_sim/cuda_sim.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "runtime/cuda_sim/fiber.h"
#include "runtime/cuda_sim/sim_internal.h"

using dlc::rt::Status;
using dlc::rt::StatusCode;
using namespace dlc::sim;
using namespace dlc::sim::detail;

namespace dlc::sim::detail {
Ctx g_ctx;
}

namespace {

enum class TState : uint8_t { kReady, kRunning, kBarrier, kCluster, kWarp, kDone, kFaulted };

struct SimThread {
  void *sp = nullptr;
  uint3 tid{};
  uint32_t linear = 0;
  TState state = TState::kReady;
  Site site{};          // the synchronisation call it waits in
  WarpOp op{};          // warp op operands and result
  unsigned mask = 0;
  int b = 0, c = 0;
  uint64_t in = 0, out = 0;
  int pred = 0;         // __syncthreads_count/and/or
  bool clusterArrived = false; // between __cluster_barrier_arrive and _wait
  /// cp.async copies not yet written: those of committed batches (oldest
  /// first), then those issued since the last commit.
  struct Copy {
    unsigned char *shared;
    unsigned char bytes[16];
    uint8_t size;
    uint32_t batch; // committed batches before it
  };
  std::vector<Copy> copies;
  uint32_t committed = 0;
};

struct Warp {
  uint32_t arrived = 0;  // lanes waiting in a warp op
  uint32_t existing = 0; // lanes the block has (the last warp may be partial)
};

/// One block's threads and scheduling state. A launch runs one cluster of
/// blocks at a time (a single block unless it asks for clusters).
struct BlockRun {
  uint3 bid{};
  size_t firstStack = 0; // its threads' stacks follow
  std::vector<SimThread> threads;
  std::vector<Warp> warps;
  std::vector<uint32_t> ready, next; // this round (run from |pos| on), the next
  size_t pos = 0;
  int nBarrier = 0, nWarp = 0, nDone = 0, nCluster = 0;
  int aggCount = 0, aggLive = 0;
  std::vector<unsigned char> dynStorage;
  unsigned char *dyn = nullptr;
  /// The static __shared__ section while another block of its cluster runs.
  std::vector<unsigned char> savedShared;
};

/// The one running launch (launches are serialised by g_launchMutex).
struct Run {
  const char *name = "";
  Body body = nullptr;
  const void *ctx = nullptr;
  LaunchOptions opts;
  std::vector<BlockRun> blocks; // the running cluster's, by rank
  std::vector<size_t> order;    // the ranks in the order they take turns
  BlockRun *blk = nullptr;      // the running block
  SharedRange shared{};
  void *schedSp = nullptr;
  SimThread *cur = nullptr;
  bool faulted = false;
  Status error;
  size_t dynBytes = 0;
  LaunchStats stats;
  std::mt19937_64 rng;
};

std::mutex g_launchMutex;  // held for a whole launch
std::mutex g_optionsMutex; // g_defaults, g_lastStats (never held by a kernel)
thread_local bool t_inLaunch = false;
Run g_run;
StackPool g_stacks;
LaunchOptions g_defaults;
LaunchStats g_lastStats;

std::string dims(uint3 v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}
std::string where(const Site &s) {
  return std::string(s.what) + " at " + s.file + ":" + std::to_string(s.line);
}
std::string hex(unsigned v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
bool sameSite(const Site &a, const Site &b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0) &&
         (a.what == b.what || std::strcmp(a.what, b.what) == 0);
}
std::string prefix() {
  return "kernel '" + std::string(g_run.name) + "' block " + dims(g_ctx.bid) + ": ";
}

BlockRun &B() { return *g_run.blk; }

void enter(SimThread *t) {
  g_ctx.tid = t->tid;
  g_run.cur = t;
  t->state = TState::kRunning;
  g_run.stats.switches++;
}

/// Suspends the running fiber and hands the CPU straight to the next thread
/// of the round: one switch per resume instead of two via the scheduler, which
/// only runs when the round is exhausted.
void park(SimThread *t) {
  if (B().pos < B().ready.size()) {
    SimThread *next = &B().threads[B().ready[B().pos++]];
    enter(next);
    dlc_sim_swap(&t->sp, next->sp);
  } else {
    g_run.cur = nullptr;
    g_run.stats.switches++;
    dlc_sim_swap(&t->sp, g_run.schedSp);
  }
}

/// A kernel bug seen by the running fiber: record it and never resume.
[[noreturn]] void fault(const std::string &message) {
  SimThread *t = g_run.cur;
  if (!g_run.faulted) {
    g_run.faulted = true;
    g_run.error = DLC_MAKE_STATUS(StatusCode::kInternal,
                                  prefix() + "thread " + dims(t->tid) + ": " + message);
  }
  t->state = TState::kFaulted;
  dlc_sim_swap(&t->sp, g_run.schedSp); // straight out: the round is abandoned
  __builtin_unreachable();
}

void initStack(size_t i, SimThread *t) {
  std::memset(g_stacks.bottom(i), kCanary, kCanaryBytes);
  uint64_t *sp = reinterpret_cast<uint64_t *>(g_stacks.top(i)) - 8;
  std::memset(sp, 0, 8 * sizeof(uint64_t));
  sp[3] = reinterpret_cast<uint64_t>(t);                   // r12
  sp[6] = reinterpret_cast<uint64_t>(&dlc_sim_trampoline); // return address
  t->sp = sp;
}

void orderRound(std::vector<uint32_t> &ids) {
  switch (g_run.opts.schedule) {
  case Schedule::kForward:
    if (!std::is_sorted(ids.begin(), ids.end())) std::sort(ids.begin(), ids.end());
    break;
  case Schedule::kReverse:
    if (!std::is_sorted(ids.rbegin(), ids.rend())) std::sort(ids.rbegin(), ids.rend());
    break;
  case Schedule::kRandom:
    std::shuffle(ids.begin(), ids.end(), g_run.rng);
    break;
  }
}

void releaseLanes(uint32_t base, uint32_t lanes) {
  bool reverse = g_run.opts.schedule == Schedule::kReverse;
  for (int k = 0; k < 32; ++k) {
    int lane = reverse ? 31 - k : k;
    if (!((lanes >> lane) & 1u)) continue;
    B().threads[base + lane].state = TState::kReady;
    B().next.push_back(base + lane);
  }
}

/// PTX shfl.sync: which lane |lane| reads, given b (lane/offset) and c
/// (clamp | segment mask << 8). Out-of-segment reads return the own value.
int shuffleSource(WarpOp op, int lane, int b, int c) {
  int bval = b & 0x1f, cval = c & 0x1f, segmask = (c >> 8) & 0x1f;
  int maxLane = (lane & segmask) | (cval & ~segmask), minLane = lane & segmask;
  int j = lane;
  bool inRange = false;
  switch (op) {
  case WarpOp::kShflUp: j = lane - bval, inRange = j >= maxLane; break;
  case WarpOp::kShflDown: j = lane + bval, inRange = j <= maxLane; break;
  case WarpOp::kShflXor: j = lane ^ bval, inRange = j <= maxLane; break;
  default: j = minLane | (bval & ~segmask), inRange = j <= maxLane; break;
  }
  return inRange ? j : lane;
}

/// Called by the last lane of |need| to arrive: checks that all of them are
/// in the same op with the same mask, computes every result, releases them.
void completeWarpOp(uint32_t warp, uint32_t need, const SimThread &last) {
  uint32_t base = warp * 32;
  SimThread *lanes = &B().threads[base];
  uint64_t ballot = 0;
  for (int l = 0; l < 32; ++l) {
    if (!((need >> l) & 1u)) continue;
    const SimThread &u = lanes[l];
    if (u.op != last.op || u.mask != last.mask)
      fault("warp " + std::to_string(warp) + " lanes meet in different warp operations: lane " +
            std::to_string(l) + " in " + where(u.site) + " (mask " + hex(u.mask) + "), lane " +
            std::to_string(last.linear & 31) + " in " + where(last.site) + " (mask " +
            hex(last.mask) + ")");
    if (u.in) ballot |= 1ull << l;
  }
  for (int l = 0; l < 32; ++l) {
    if (!((need >> l) & 1u)) continue;
    SimThread &u = lanes[l];
    switch (u.op) {
    case WarpOp::kShflIdx: case WarpOp::kShflUp: case WarpOp::kShflDown: case WarpOp::kShflXor: {
      int j = shuffleSource(u.op, l, u.b, u.c);
      if (!((need >> j) & 1u))
        fault("warp " + std::to_string(warp) + " lane " + std::to_string(l) + " reads lane " +
              std::to_string(j) + " in " +
              where(u.site) + ", which is not in the mask " + hex(u.mask) +
              " or does not exist (blockDim " + dims(g_ctx.bdim) + ")");
      u.out = lanes[j].in;
      break;
    }
    case WarpOp::kBallot: u.out = ballot; break;
    case WarpOp::kAny: u.out = ballot != 0; break;
    case WarpOp::kAll: u.out = ballot == need; break;
    case WarpOp::kMatchAny: case WarpOp::kMatchAll: {
      uint64_t m = 0;
      for (int k = 0; k < 32; ++k)
        if (((need >> k) & 1u) && lanes[k].in == u.in) m |= 1ull << k;
      u.out = u.op == WarpOp::kMatchAny ? m : (m == need ? need : 0);
      break;
    }
    case WarpOp::kSync: u.out = 0; break;
    default: { // the integer reductions
      uint32_t acc = static_cast<uint32_t>(u.in);
      for (int k = 0; k < 32; ++k) {
        if (!((need >> k) & 1u) || k == l) continue;
        uint32_t v = static_cast<uint32_t>(lanes[k].in);
        switch (u.op) {
        case WarpOp::kReduceAdd: acc += v; break;
        case WarpOp::kReduceMinU: acc = std::min(acc, v); break;
        case WarpOp::kReduceMaxU: acc = std::max(acc, v); break;
        case WarpOp::kReduceMinS: acc = std::min<int32_t>(acc, v); break;
        case WarpOp::kReduceMaxS: acc = std::max<int32_t>(acc, v); break;
        case WarpOp::kReduceAnd: acc &= v; break;
        case WarpOp::kReduceOr: acc |= v; break;
        default: acc ^= v; break;
        }
      }
      u.out = acc;
    }
    }
  }
  B().warps[warp].arrived &= ~need;
  B().nWarp -= __builtin_popcount(need);
  releaseLanes(base, need);
}

/// Nothing can run and the block is not at a complete barrier: say why.
Status explainDeadlock() {
  const std::vector<SimThread> &ts = B().threads;
  auto state = [&](const SimThread &u) {
    if (u.state == TState::kDone) return std::string("has exited");
    return "waits in " + where(u.site) +
           (u.state == TState::kWarp ? " (mask " + hex(u.mask) + ")" : std::string());
  };
  for (const SimThread &t : ts) {
    if (t.state != TState::kWarp) continue;
    uint32_t warp = t.linear / 32;
    uint32_t need = t.mask & B().warps[warp].existing;
    uint32_t missing = need & ~B().warps[warp].arrived;
    const SimThread *other = nullptr;
    if (missing) other = &ts[warp * 32 + __builtin_ctz(missing)];
    for (uint32_t l = 0; !other && l < 32; ++l)
      if (((need >> l) & 1u) && ts[warp * 32 + l].mask != t.mask) other = &ts[warp * 32 + l];
    std::string msg = "thread " + dims(t.tid) + " waits in " + where(t.site) + " (mask " +
                      hex(t.mask) + ")";
    if (other) msg += " but lane " + std::to_string(other->linear & 31) + " " + state(*other);
    return DLC_MAKE_STATUS(StatusCode::kInternal, prefix() + "warp deadlock: " + msg);
  }
  return DLC_MAKE_STATUS(StatusCode::kInternal, prefix() + "scheduler found no runnable thread");
}

/// Every live thread waits at a __syncthreads: release the block or report
/// an exited thread / divergent barrier.
Status releaseBarrier() {
  std::vector<SimThread> &ts = B().threads;
  const SimThread *first = nullptr, *exited = nullptr;
  for (const SimThread &t : ts) {
    if (t.state == TState::kDone) exited = exited ? exited : &t;
    else if (!first) first = &t;
  }
  if (exited)
    return DLC_MAKE_STATUS(StatusCode::kInternal,
                           prefix() + "thread " + dims(exited->tid) + " exited while " +
                               std::to_string(B().nBarrier) + " threads wait in " +
                               where(first->site) + " (every thread must reach it)");
  for (const SimThread &t : ts)
    if (!sameSite(t.site, first->site))
      return DLC_MAKE_STATUS(StatusCode::kInternal,
                             prefix() + "divergent barrier: thread " + dims(first->tid) +
                                 " waits in " + where(first->site) + ", thread " + dims(t.tid) +
                                 " in " + where(t.site));
  B().aggCount = 0, B().aggLive = 0;
  for (SimThread &t : ts) B().aggCount += t.pred != 0, B().aggLive++;
  B().nBarrier = 0;
  g_run.stats.barriers++;
  uint32_t n = static_cast<uint32_t>(ts.size());
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t id = g_run.opts.schedule == Schedule::kReverse ? n - 1 - i : i;
    ts[id].state = TState::kReady;
    B().next.push_back(id);
  }
  return Status();
}

/// Fresh threads for block |bid| (rank |rank| of its cluster), its shared
/// memory poisoned.
void initBlock(BlockRun &b, uint3 bid, size_t rank, uint32_t threads) {
  b.bid = bid;
  b.firstStack = rank * threads;
  b.threads.assign(threads, SimThread());
  b.warps.assign((threads + 31) / 32, Warp());
  uint3 bd = g_ctx.bdim;
  for (uint32_t i = 0; i < threads; ++i) {
    SimThread &t = b.threads[i];
    t.linear = i;
    t.tid = make_uint3(i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y));
    initStack(b.firstStack + i, &t);
  }
  for (size_t w = 0; w < b.warps.size(); ++w) {
    size_t live = std::min<size_t>(32, threads - w * 32);
    b.warps[w] = Warp{0, live == 32 ? ~0u : (1u << live) - 1};
  }
  b.nBarrier = b.nWarp = b.nDone = b.nCluster = 0;
  b.ready.clear(), b.next.clear();
  for (uint32_t i = 0; i < threads; ++i) b.ready.push_back(i);
  if (g_run.opts.poisonShared) {
    fillPattern(b.dyn, g_run.dynBytes, kSharedPoison);
    const SharedRange &s = g_run.shared;
    if (s.begin && s.end > s.begin)
      fillPattern(g_run.blocks.size() > 1 ? b.savedShared.data() : s.begin, s.end - s.begin,
                  kSharedPoison);
  }
}

/// Makes |b| the running block: its blockIdx and, in a cluster, its static
/// shared memory (blocks of a cluster take turns between cluster barriers).
void activate(BlockRun &b) {
  g_run.blk = &b;
  g_ctx.bid = b.bid;
  const SharedRange &s = g_run.shared;
  if (g_run.blocks.size() > 1 && s.begin && s.end > s.begin)
    std::memcpy(s.begin, b.savedShared.data(), s.end - s.begin);
}
void deactivate(BlockRun &b) {
  const SharedRange &s = g_run.shared;
  if (g_run.blocks.size() > 1 && s.begin && s.end > s.begin)
    std::memcpy(b.savedShared.data(), s.begin, s.end - s.begin);
}

/// Runs the active block until every thread has exited or every live one
/// waits at a cluster barrier.
Status runRounds() {
  BlockRun &b = B();
  std::vector<SimThread> &ts = b.threads;
  const int n = static_cast<int>(ts.size());
  for (;;) {
    while (!b.ready.empty()) {
      orderRound(b.ready);
      b.pos = 1;
      SimThread *first = &ts[b.ready[0]];
      enter(first);
      dlc_sim_swap(&g_run.schedSp, first->sp); // back when the round is done
      g_run.cur = nullptr;
      if (g_run.faulted) return g_run.error;
      b.ready.swap(b.next);
      b.next.clear();
    }
    if (b.nDone == n) return Status();
    if (b.nWarp == 0 && b.nCluster == 0 && b.nBarrier + b.nDone == n) {
      DLC_RETURN_IF_ERROR(releaseBarrier(), "");
      b.ready.swap(b.next);
      b.next.clear();
      continue;
    }
    if (b.nWarp == 0 && b.nBarrier == 0 && b.nCluster > 0 && b.nCluster + b.nDone == n)
      return Status(); // parked until the cluster's other blocks arrive
    if (b.nWarp == 0 && b.nBarrier > 0 && b.nCluster > 0) {
      const SimThread *inBlock = nullptr, *inCluster = nullptr;
      for (const SimThread &t : ts) {
        if (t.state == TState::kBarrier && !inBlock) inBlock = &t;
        if (t.state == TState::kCluster && !inCluster) inCluster = &t;
      }
      return DLC_MAKE_STATUS(StatusCode::kInternal,
                             prefix() + "divergent barrier: thread " + dims(inBlock->tid) +
                                 " waits in " + where(inBlock->site) + ", thread " +
                                 dims(inCluster->tid) + " in " + where(inCluster->site));
    }
    return explainDeadlock();
  }
}

/// Every live thread of every block of the cluster waits at a cluster
/// barrier: release them all, or report an exited thread or a divergence.
Status releaseCluster() {
  const SimThread *first = nullptr;
  const BlockRun *firstBlock = nullptr;
  for (BlockRun &b : g_run.blocks)
    for (const SimThread &t : b.threads)
      if (t.state == TState::kCluster && !first) first = &t, firstBlock = &b;
  for (BlockRun &b : g_run.blocks)
    for (const SimThread &t : b.threads) {
      g_ctx.bid = b.bid;
      if (t.state == TState::kDone)
        return DLC_MAKE_STATUS(StatusCode::kInternal,
                               prefix() + "thread " + dims(t.tid) + " exited while block " +
                                   dims(firstBlock->bid) + " thread " + dims(first->tid) +
                                   " waits in " + where(first->site) +
                                   " (every thread of the cluster must reach it)");
      if (!sameSite(t.site, first->site))
        return DLC_MAKE_STATUS(StatusCode::kInternal,
                               prefix() + "divergent cluster barrier: thread " + dims(t.tid) +
                                   " waits in " + where(t.site) + ", block " +
                                   dims(firstBlock->bid) + " thread " + dims(first->tid) +
                                   " in " + where(first->site));
    }
  g_run.stats.barriers++;
  for (BlockRun &b : g_run.blocks) {
    b.nCluster = 0;
    uint32_t n = static_cast<uint32_t>(b.threads.size());
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t id = g_run.opts.schedule == Schedule::kReverse ? n - 1 - i : i;
      b.threads[id].state = TState::kReady;
      b.ready.push_back(id);
    }
  }
  return Status();
}

/// Runs the blocks |bids| as one cluster: co-resident, each running until
/// all its threads wait at a cluster barrier (or have exited), then the next,
/// until the whole cluster is at the barrier and is released together.
Status runCluster(const std::vector<uint3> &bids) {
  const uint32_t n = g_ctx.bdim.x * g_ctx.bdim.y * g_ctx.bdim.z;
  std::vector<size_t> &order = g_run.order;
  order.resize(bids.size());
  std::iota(order.begin(), order.end(), 0);
  if (g_run.opts.schedule == Schedule::kReverse) std::reverse(order.begin(), order.end());
  for (size_t q = 0; q < bids.size(); ++q) initBlock(g_run.blocks[q], bids[q], q, n);
  for (;;) {
    if (g_run.opts.schedule == Schedule::kRandom) std::shuffle(order.begin(), order.end(), g_run.rng);
    bool done = true;
    for (size_t q : order) {
      BlockRun &b = g_run.blocks[q];
      if (b.nDone == static_cast<int>(n)) continue;
      activate(b);
      Status s = runRounds();
      deactivate(b);
      if (!s.ok()) return s;
      done = done && b.nDone == static_cast<int>(n);
    }
    if (done) break;
    DLC_RETURN_IF_ERROR(releaseCluster(), "");
  }
  for (BlockRun &b : g_run.blocks) {
    g_ctx.bid = b.bid;
    for (size_t i = 0; i < n; ++i) {
      const unsigned char *c = g_stacks.bottom(b.firstStack + i);
      for (size_t k = 0; k < kCanaryBytes; ++k)
        if (c[k] != kCanary)
          return DLC_MAKE_STATUS(StatusCode::kInternal,
                                 prefix() + "thread " + dims(b.threads[i].tid) + " overflowed its " +
                                     std::to_string(kStackBytes / 1024) + " KiB fiber stack");
    }
    long bad = firstPatternMismatch(b.dyn + g_run.dynBytes, kRedZoneBytes, kRedZonePattern);
    if (bad >= 0)
      return DLC_MAKE_STATUS(StatusCode::kInternal,
                             prefix() + "write past the end of dynamic shared memory (" +
                                 std::to_string(g_run.dynBytes) + " bytes) at byte offset " +
                                 std::to_string(g_run.dynBytes + bad));
  }
  return Status();
}

/// Block |i| of |count| in the schedule's order: a bijection i -> a*i+c mod
/// count (gcd(a, count) = 1) shuffles without storing a permutation.
uint64_t blockAt(uint64_t i, uint64_t count, uint64_t a, uint64_t c) {
  if (!g_run.opts.reorderBlocks || g_run.opts.schedule == Schedule::kForward) return i;
  if (g_run.opts.schedule == Schedule::kReverse) return count - 1 - i;
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * i + c) % count);
}

Status validate(dim3 grid, dim3 block, size_t dyn, const LaunchOptions &opts) {
  auto bad = [](const std::string &m) { return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, m); };
  uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (!block.x || !block.y || !block.z || block.x > 1024 || block.y > 1024 || block.z > 64 ||
      threads > 1024)
    return bad("invalid block " + dims(uint3{block.x, block.y, block.z}) +
               " (at most 1024 threads, z <= 64)");
  if (!grid.x || !grid.y || !grid.z || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
    return bad("invalid grid " + dims(uint3{grid.x, grid.y, grid.z}));
  if (opts.clusterBlocks == 0 || opts.clusterBlocks > 16 || grid.x % opts.clusterBlocks)
    return bad("invalid cluster of " + std::to_string(opts.clusterBlocks) + " blocks for grid " +
               dims(uint3{grid.x, grid.y, grid.z}) +
               " (1 to 16 blocks, dividing the grid's x)");
  if (dyn > opts.maxDynamicShared)
    return bad(std::to_string(dyn) + " bytes of dynamic shared memory exceed the limit of " +
               std::to_string(opts.maxDynamicShared));
  return Status();
}

} // namespace

// The first frame of every fiber (called by dlc_sim_trampoline; never returns:
// an exited fiber is simply not resumed, its stack reused by the next block).
extern "C" __attribute__((visibility("hidden"), used)) void dlc_sim_fiber_main(SimThread *t) {
  g_run.body(g_run.ctx);
  t->state = TState::kDone;
  B().nDone++;
  park(t);
  __builtin_unreachable();
}

namespace dlc::sim {

const char *scheduleName(Schedule s) {
  switch (s) {
  case Schedule::kForward: return "forward";
  case Schedule::kReverse: return "reverse";
  case Schedule::kRandom: return "random";
  }
  return "?";
}

LaunchOptions defaultLaunchOptions() {
  std::lock_guard<std::mutex> lock(g_optionsMutex);
  return g_defaults;
}
void setDefaultLaunchOptions(const LaunchOptions &options) {
  std::lock_guard<std::mutex> lock(g_optionsMutex);
  g_defaults = options;
}
LaunchStats lastLaunchStats() {
  std::lock_guard<std::mutex> lock(g_optionsMutex);
  return g_lastStats;
}

namespace detail {

unsigned char *dynamicShared() { return g_run.blk ? g_run.blk->dyn : nullptr; }

void clusterArrive(Site site) {
  SimThread *t = g_run.cur;
  if (!t) return;
  if (t->clusterArrived) fault(where(site) + " twice without a __cluster_barrier_wait between");
  t->clusterArrived = true;
}

void clusterWait(Site site) {
  SimThread *t = g_run.cur;
  if (!t) return;
  if (!t->clusterArrived) fault(where(site) + " without a __cluster_barrier_arrive before it");
  t->clusterArrived = false;
  t->state = TState::kCluster, t->site = site;
  B().nCluster++;
  park(t);
}

bool inShared(const unsigned char *p, size_t bytes) {
  const SharedRange &s = g_run.shared;
  if (s.begin && p >= s.begin && p + bytes <= s.end) return true;
  for (const BlockRun &b : g_run.blocks)
    if (p >= b.dyn && p + bytes <= b.dyn + g_run.dynBytes) return true;
  return false;
}

void pipelineCopy(Site site, void *shared, const void *global, size_t bytes, size_t zeroFill) {
  SimThread *t = g_run.cur;
  unsigned char *dst = static_cast<unsigned char *>(shared);
  if (!t) {
    size_t copied = bytes - std::min(bytes, zeroFill);
    std::memcpy(dst, global, copied);
    std::memset(dst + copied, 0, bytes - copied);
    return;
  }
  if (bytes != 4 && bytes != 8 && bytes != 16)
    fault(where(site) + " copies " + std::to_string(bytes) + " bytes (4, 8 or 16)");
  if (zeroFill > bytes)
    fault(where(site) + " zero-fills " + std::to_string(zeroFill) + " of " + std::to_string(bytes) + " bytes");
  if (reinterpret_cast<uintptr_t>(dst) % bytes || reinterpret_cast<uintptr_t>(global) % bytes)
    fault(where(site) + " with an address not aligned to its " + std::to_string(bytes) + " bytes");
  if (!inShared(dst, bytes))
    fault(where(site) + " into an address that is not the block's shared memory");
  SimThread::Copy c{dst, {}, static_cast<uint8_t>(bytes), ~0u};
  std::memcpy(c.bytes, global, bytes - zeroFill);
  t->copies.push_back(c);
}

void pipelineCommit() {
  SimThread *t = g_run.cur;
  if (!t) return;
  for (SimThread::Copy &c : t->copies)
    if (c.batch == ~0u) c.batch = t->committed;
  t->committed++;
}

void pipelineWaitPrior(Site site, size_t prior) {
  SimThread *t = g_run.cur;
  if (!t) return;
  if (prior > 8) fault(where(site) + " waits for all but " + std::to_string(prior) + " batches (at most 8)");
  // Batches older than the |prior| most recent committed ones are done.
  size_t kept = 0;
  for (SimThread::Copy &c : t->copies) {
    if (c.batch != ~0u && c.batch + prior < t->committed)
      std::memcpy(c.shared, c.bytes, c.size);
    else
      t->copies[kept++] = c;
  }
  t->copies.resize(kept);
}

unsigned clusterRank() {
  return g_run.blk ? static_cast<unsigned>(g_run.blk - g_run.blocks.data()) : 0;
}

void *mapSharedRank(Site site, const void *pointer, unsigned rank) {
  if (!g_run.cur) return const_cast<void *>(pointer);
  if (rank >= g_run.blocks.size())
    fault(where(site) + " asks for block rank " + std::to_string(rank) + " of a cluster of " +
          std::to_string(g_run.blocks.size()));
  const unsigned char *p = static_cast<const unsigned char *>(pointer);
  BlockRun &self = B(), &target = g_run.blocks[rank];
  if (p >= self.dyn && p < self.dyn + g_run.dynBytes)
    return target.dyn + (p - self.dyn);
  const SharedRange &s = g_run.shared;
  if (s.begin && p >= s.begin && p < s.end)
    return &target == &self ? const_cast<unsigned char *>(p)
                            : target.savedShared.data() + (p - s.begin);
  fault(where(site) + " with an address that is not in the block's shared memory");
}

void syncthreads(Site site) { (void)syncthreadsReduce(site, 0, 0); }

int syncthreadsReduce(Site site, int kind, int predicate) {
  SimThread *t = g_run.cur;
  if (!t) return 0; // called outside a kernel: nothing to wait for
  t->state = TState::kBarrier, t->site = site, t->pred = predicate;
  B().nBarrier++;
  park(t);
  // Read before any other thread can reach the next barrier and overwrite it.
  if (kind == 0) return B().aggCount;
  return kind == 1 ? B().aggCount == B().aggLive : B().aggCount > 0;
}

uint64_t warpOp(Site site, WarpOp op, unsigned mask, uint64_t value, int b, int c) {
  SimThread *t = g_run.cur;
  if (!t) return value;
  uint32_t lane = t->linear & 31, warp = t->linear / 32;
  if (!((mask >> lane) & 1u))
    fault(where(site) + " with mask " + hex(mask) + " that does not name the calling lane " +
          std::to_string(lane));
  if (c < 0) fault(where(site) + ": width must be a power of two <= 32");
  t->state = TState::kWarp, t->site = site, t->op = op, t->mask = mask;
  t->in = value, t->b = b, t->c = c;
  Warp &w = B().warps[warp];
  w.arrived |= 1u << lane;
  B().nWarp++;
  g_run.stats.warpOps++;
  uint32_t need = mask & w.existing;
  if ((w.arrived & need) == need) completeWarpOp(warp, need, *t);
  park(t);
  return t->out;
}

unsigned activeMask() {
  SimThread *t = g_run.cur;
  if (!t) return 1;
  uint32_t warp = t->linear / 32, m = 0;
  for (uint32_t l = 0; l < 32; ++l)
    if (((B().warps[warp].existing >> l) & 1u) && B().threads[warp * 32 + l].state != TState::kDone)
      m |= 1u << l;
  return m;
}

void trap(Site site) {
  if (g_run.cur) fault(where(site) + " executed"); // outside a kernel: no-op
}

unsigned long long clockTicks() { return g_run.stats.switches; }

Status launchRaw(const char *name, Body body, const void *ctx, dim3 grid, dim3 block,
                 size_t dynamicShared, const LaunchOptions &options, SharedRange staticShared) {
  std::string kernel = std::string("kernel '") + (name ? name : "?") + "'";
  if (t_inLaunch)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           kernel + ": launching from a kernel (dynamic parallelism) is not emulated");
  DLC_RETURN_IF_ERROR(validate(grid, block, dynamicShared, options), kernel);
  std::lock_guard<std::mutex> lock(g_launchMutex);
  struct InLaunch {
    InLaunch() { t_inLaunch = true; }
    ~InLaunch() {
      t_inLaunch = false, g_run.cur = nullptr;
      std::lock_guard<std::mutex> lock(g_optionsMutex);
      g_lastStats = g_run.stats;
    }
  } inLaunch;
  const uint32_t n = block.x * block.y * block.z, cluster = options.clusterBlocks;
  if (!g_stacks.reserve(size_t(n) * cluster))
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, kernel + ": cannot map fiber stacks");
  g_run.name = name ? name : "?";
  g_run.body = body, g_run.ctx = ctx, g_run.opts = options;
  g_run.shared = staticShared;
  g_run.faulted = false, g_run.error = Status();
  g_run.stats = LaunchStats();
  g_run.rng.seed(options.seed);
  g_run.blocks.resize(cluster);
  // Dynamic shared memory per block of a cluster, 128-byte aligned,
  // followed by a red zone.
  g_run.dynBytes = dynamicShared;
  for (BlockRun &b : g_run.blocks) {
    b.dynStorage.resize(dynamicShared + kRedZoneBytes + 128);
    uintptr_t raw = reinterpret_cast<uintptr_t>(b.dynStorage.data());
    b.dyn = reinterpret_cast<unsigned char *>((raw + 127) & ~uintptr_t(127));
    fillPattern(b.dyn + dynamicShared, kRedZoneBytes, kRedZonePattern);
    if (cluster > 1 && staticShared.end > staticShared.begin)
      b.savedShared.resize(staticShared.end - staticShared.begin);
  }
  g_ctx.bdim = make_uint3(block.x, block.y, block.z);
  g_ctx.gdim = make_uint3(grid.x, grid.y, grid.z);

  // Clusters (of |cluster| consecutive blocks along x) run one at a time,
  // in the schedule's order.
  uint64_t count = uint64_t(grid.x / cluster) * grid.y * grid.z, a = 1, c = 0;
  if (options.schedule == Schedule::kRandom && count > 1) {
    std::uniform_int_distribution<uint64_t> pick(1, count - 1);
    do a = pick(g_run.rng); while (std::gcd(a, count) != 1);
    c = pick(g_run.rng);
  }
  const uint32_t clustersX = grid.x / cluster;
  std::vector<uint3> bids(cluster);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t k = blockAt(i, count, a, c);
    for (uint32_t q = 0; q < cluster; ++q)
      bids[q] = make_uint3(uint32_t(k % clustersX) * cluster + q, (k / clustersX) % grid.y,
                           uint32_t(k / (uint64_t(clustersX) * grid.y)));
    Status s = runCluster(bids);
    g_run.blk = nullptr;
    if (!s.ok()) return s;
    g_run.stats.blocks += cluster;
  }
  g_run.stats.threads = g_run.stats.blocks * n;
  if (options.checkRedZones) DLC_RETURN_IF_ERROR(checkRedZones(kernel.c_str()), "");
  return Status();
}

} // namespace detail
} // namespace dlc::sim
