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

enum class TState : uint8_t { kReady, kRunning, kBarrier, kWarp, kDone, kFaulted };

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
};

struct Warp {
  uint32_t arrived = 0;  // lanes waiting in a warp op
  uint32_t existing = 0; // lanes the block has (the last warp may be partial)
};

/// The one running launch (launches are serialised by g_launchMutex).
struct Run {
  const char *name = "";
  Body body = nullptr;
  const void *ctx = nullptr;
  LaunchOptions opts;
  std::vector<SimThread> threads;
  std::vector<Warp> warps;
  std::vector<uint32_t> ready, next; // this round (run from |pos| on), the next
  size_t pos = 0;
  int nBarrier = 0, nWarp = 0, nDone = 0;
  int aggCount = 0, aggLive = 0;
  void *schedSp = nullptr;
  SimThread *cur = nullptr;
  bool faulted = false;
  Status error;
  std::vector<unsigned char> dynStorage;
  unsigned char *dyn = nullptr;
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
  if (g_run.pos < g_run.ready.size()) {
    SimThread *next = &g_run.threads[g_run.ready[g_run.pos++]];
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
    g_run.threads[base + lane].state = TState::kReady;
    g_run.next.push_back(base + lane);
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
  SimThread *lanes = &g_run.threads[base];
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
  g_run.warps[warp].arrived &= ~need;
  g_run.nWarp -= __builtin_popcount(need);
  releaseLanes(base, need);
}

/// Nothing can run and the block is not at a complete barrier: say why.
Status explainDeadlock() {
  const std::vector<SimThread> &ts = g_run.threads;
  auto state = [&](const SimThread &u) {
    if (u.state == TState::kDone) return std::string("has exited");
    return "waits in " + where(u.site) +
           (u.state == TState::kWarp ? " (mask " + hex(u.mask) + ")" : std::string());
  };
  for (const SimThread &t : ts) {
    if (t.state != TState::kWarp) continue;
    uint32_t warp = t.linear / 32;
    uint32_t need = t.mask & g_run.warps[warp].existing;
    uint32_t missing = need & ~g_run.warps[warp].arrived;
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
  std::vector<SimThread> &ts = g_run.threads;
  const SimThread *first = nullptr, *exited = nullptr;
  for (const SimThread &t : ts) {
    if (t.state == TState::kDone) exited = exited ? exited : &t;
    else if (!first) first = &t;
  }
  if (exited)
    return DLC_MAKE_STATUS(StatusCode::kInternal,
                           prefix() + "thread " + dims(exited->tid) + " exited while " +
                               std::to_string(g_run.nBarrier) + " threads wait in " +
                               where(first->site) + " (every thread must reach it)");
  for (const SimThread &t : ts)
    if (!sameSite(t.site, first->site))
      return DLC_MAKE_STATUS(StatusCode::kInternal,
                             prefix() + "divergent barrier: thread " + dims(first->tid) +
                                 " waits in " + where(first->site) + ", thread " + dims(t.tid) +
                                 " in " + where(t.site));
  g_run.aggCount = 0, g_run.aggLive = 0;
  for (SimThread &t : ts) g_run.aggCount += t.pred != 0, g_run.aggLive++;
  g_run.nBarrier = 0;
  g_run.stats.barriers++;
  uint32_t n = static_cast<uint32_t>(ts.size());
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t id = g_run.opts.schedule == Schedule::kReverse ? n - 1 - i : i;
    ts[id].state = TState::kReady;
    g_run.next.push_back(id);
  }
  return Status();
}

Status runBlock(uint3 blockIdx_, const SharedRange &shared) {
  g_ctx.bid = blockIdx_;
  if (g_run.opts.poisonShared) {
    if (shared.begin && shared.end > shared.begin)
      fillPattern(shared.begin, shared.end - shared.begin, kSharedPoison);
    fillPattern(g_run.dyn, g_run.dynBytes, kSharedPoison);
  }
  std::vector<SimThread> &ts = g_run.threads;
  uint3 bd = g_ctx.bdim;
  for (uint32_t i = 0; i < ts.size(); ++i) {
    SimThread &t = ts[i];
    t = SimThread();
    t.linear = i;
    t.tid = make_uint3(i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y));
    initStack(i, &t);
  }
  for (size_t w = 0; w < g_run.warps.size(); ++w) {
    size_t live = std::min<size_t>(32, ts.size() - w * 32);
    g_run.warps[w] = Warp{0, live == 32 ? ~0u : (1u << live) - 1};
  }
  g_run.nBarrier = g_run.nWarp = g_run.nDone = 0;
  g_run.ready.clear(), g_run.next.clear();
  for (uint32_t i = 0; i < ts.size(); ++i) g_run.ready.push_back(i);
  for (;;) {
    while (!g_run.ready.empty()) {
      orderRound(g_run.ready);
      g_run.pos = 1;
      SimThread *first = &ts[g_run.ready[0]];
      enter(first);
      dlc_sim_swap(&g_run.schedSp, first->sp); // back when the round is done
      g_run.cur = nullptr;
      if (g_run.faulted) return g_run.error;
      g_run.ready.swap(g_run.next);
      g_run.next.clear();
    }
    if (g_run.nDone == static_cast<int>(ts.size())) break;
    if (g_run.nWarp == 0 && g_run.nBarrier + g_run.nDone == static_cast<int>(ts.size())) {
      DLC_RETURN_IF_ERROR(releaseBarrier(), "");
      g_run.ready.swap(g_run.next);
      g_run.next.clear();
      continue;
    }
    return explainDeadlock();
  }
  for (size_t i = 0; i < ts.size(); ++i) {
    const unsigned char *c = g_stacks.bottom(i);
    for (size_t k = 0; k < kCanaryBytes; ++k)
      if (c[k] != kCanary)
        return DLC_MAKE_STATUS(StatusCode::kInternal,
                               prefix() + "thread " + dims(ts[i].tid) + " overflowed its " +
                                   std::to_string(kStackBytes / 1024) + " KiB fiber stack");
  }
  long bad = firstPatternMismatch(g_run.dyn + g_run.dynBytes, kRedZoneBytes, kRedZonePattern);
  if (bad >= 0)
    return DLC_MAKE_STATUS(StatusCode::kInternal,
                           prefix() + "write past the end of dynamic shared memory (" +
                               std::to_string(g_run.dynBytes) + " bytes) at byte offset " +
                               std::to_string(g_run.dynBytes + bad));
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
  g_run.nDone++;
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

unsigned char *dynamicShared() { return g_run.dyn; }

void syncthreads(Site site) { (void)syncthreadsReduce(site, 0, 0); }

int syncthreadsReduce(Site site, int kind, int predicate) {
  SimThread *t = g_run.cur;
  if (!t) return 0; // called outside a kernel: nothing to wait for
  t->state = TState::kBarrier, t->site = site, t->pred = predicate;
  g_run.nBarrier++;
  park(t);
  // Read before any other thread can reach the next barrier and overwrite it.
  if (kind == 0) return g_run.aggCount;
  return kind == 1 ? g_run.aggCount == g_run.aggLive : g_run.aggCount > 0;
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
  Warp &w = g_run.warps[warp];
  w.arrived |= 1u << lane;
  g_run.nWarp++;
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
    if (((g_run.warps[warp].existing >> l) & 1u) && g_run.threads[warp * 32 + l].state != TState::kDone)
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
  uint32_t n = block.x * block.y * block.z;
  if (!g_stacks.reserve(n))
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, kernel + ": cannot map fiber stacks");
  g_run.name = name ? name : "?";
  g_run.body = body, g_run.ctx = ctx, g_run.opts = options;
  g_run.threads.assign(n, SimThread());
  g_run.warps.assign((n + 31) / 32, Warp());
  g_run.faulted = false, g_run.error = Status();
  g_run.stats = LaunchStats();
  g_run.rng.seed(options.seed);
  // Dynamic shared memory, 128-byte aligned, followed by a red zone.
  g_run.dynBytes = dynamicShared;
  g_run.dynStorage.resize(dynamicShared + kRedZoneBytes + 128);
  uintptr_t raw = reinterpret_cast<uintptr_t>(g_run.dynStorage.data());
  g_run.dyn = reinterpret_cast<unsigned char *>((raw + 127) & ~uintptr_t(127));
  fillPattern(g_run.dyn + dynamicShared, kRedZoneBytes, kRedZonePattern);
  g_ctx.bdim = make_uint3(block.x, block.y, block.z);
  g_ctx.gdim = make_uint3(grid.x, grid.y, grid.z);

  uint64_t count = uint64_t(grid.x) * grid.y * grid.z, a = 1, c = 0;
  if (options.schedule == Schedule::kRandom && count > 1) {
    std::uniform_int_distribution<uint64_t> pick(1, count - 1);
    do a = pick(g_run.rng); while (std::gcd(a, count) != 1);
    c = pick(g_run.rng);
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t k = blockAt(i, count, a, c);
    uint3 b = make_uint3(k % grid.x, (k / grid.x) % grid.y, k / (uint64_t(grid.x) * grid.y));
    Status s = runBlock(b, staticShared);
    if (!s.ok()) return s;
    g_run.stats.blocks++;
  }
  g_run.stats.threads = g_run.stats.blocks * n;
  if (options.checkRedZones) DLC_RETURN_IF_ERROR(checkRedZones(kernel.c_str()), "");
  return Status();
}

} // namespace detail
} // namespace dlc::sim
