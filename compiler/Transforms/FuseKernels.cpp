//===- FuseKernels.cpp - Group dl ops into kernels ------------------------===//
//
// Implements `dlc-fuse`: every compute op of every function ends up in a
// `dl.fused` region, and a region is one kernel for every backend. Grouping
// is greedy along producer->consumer chains in program order:
//
//   conv2d|dense|*_grad_input|pool grads|elementwise  -> elementwise   (epilogue)
//   a lone pool                                        -> elementwise   (epilogue)
//   conv2d[+elementwise]                               -> pool          (pooled in the tile)
//   dense                                              -> softmax       (last axis: row epilogue)
//   elementwise|loss_grad                              -> bias_grad     (reduction epilogue)
//   any                                                -> cast          (a converting store)
//   cast of a value no kernel ends in -> its reader      (a converting load, one copy per reader)
//
// and across chains, the optimizer updates of one optimizer (the same
// rule, step, loss scale and norm) share kernels of up to 32 parameters.
//
// These rules propose; the kernel-family registry (compiler/Kernels)
// disposes: an op joins a group only when every target can run the group
// with it (the CUDA matrix kernel pools only windows its tile holds, and a
// pool reads a kernel's inputs, never values computed inside it).
//
// An op joins a group only when it consumes the group's last op and either
// the group can move to the op's position (no outside use of a member comes
// earlier) or the op can move up to the group's last op. Views (flatten, reshape), parameter reads and writes stay outside
// groups: they are buffer aliases, not work.
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"
#include "compiler/Kernels/KernelRegistry.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace dlc {
#define GEN_PASS_DEF_FUSEKERNELSPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

enum class Role { View, Anchor, Elementwise, Pool, Softmax, BiasGrad, LossGrad, Cast, Other };

Role roleOf(Operation *op) {
  if (!isa_and_nonnull<dl::DLDialect>(op->getDialect()) ||
      isa<dl::WeightOp, dl::FlattenOp, dl::ReshapeOp, dl::AssignOp, dl::ParamOp,
          dl::TrainSetupOp>(op))
    return Role::View;
  if (isa<dl::Conv2DOp, dl::DenseOp, dl::Conv2DGradInputOp, dl::DenseGradInputOp,
          dl::MaxPool2DGradOp, dl::AvgPool2DGradOp, dl::GlobalMaxPool2DGradOp,
          dl::GlobalAvgPool2DGradOp>(op))
    return Role::Anchor;
  if (isa<dl::ReluOp, dl::SigmoidOp, dl::TanhOp, dl::GeluOp, dl::LeakyReluOp, dl::DropoutOp,
          dl::AddOp, dl::ReluGradOp, dl::SigmoidGradOp, dl::TanhGradOp, dl::GeluGradOp,
          dl::LeakyReluGradOp>(op))
    return Role::Elementwise;
  if (isa<dl::MaxPool2DOp, dl::AvgPool2DOp>(op))
    return Role::Pool;
  if (isa<dl::SoftmaxOp>(op))
    return Role::Softmax;
  if (isa<dl::BiasGradOp>(op))
    return Role::BiasGrad;
  if (isa<dl::LossGradOp>(op))
    return Role::LossGrad;
  if (isa<dl::CastOp>(op))
    return Role::Cast;
  return Role::Other;
}

struct Group {
  SmallVector<Operation *> ops;
  bool hasPool = false, hasBiasGrad = false;

  /// The first op after the prologue casts (converting loads): what the
  /// group is built around.
  Operation *anchor() const {
    for (Operation *op : ops)
      if (!isa<dl::CastOp>(op))
        return op;
    return ops.front();
  }
};

/// Whether |op| may follow a group whose last op has role |tail|.
bool canFollow(Role tail, Operation *tailOp, Operation *op, Role role, const Group &g) {
  switch (role) {
  case Role::Elementwise:
    return tail == Role::Anchor || tail == Role::Elementwise ||
           (tail == Role::Pool && g.ops.size() == 1);
  case Role::Pool:
    return !g.hasPool && isa<dl::Conv2DOp>(g.anchor()) &&
           (tail == Role::Elementwise || tail == Role::Cast || tailOp == g.anchor());
  case Role::Softmax: // after dense, or after the casts that end a dense group
    return isa<dl::DenseOp>(tailOp) || (tail == Role::Cast && isa<dl::DenseOp>(g.anchor()));
  case Role::BiasGrad:
    return !g.hasBiasGrad && (tail == Role::Elementwise || tail == Role::LossGrad);
  case Role::Cast: // a conversion as its producer stores: any kernel may end in one
    return true;
  default:
    return false;
  }
}

/// The group moves to |op|'s position: every outside use of a member must
/// come after |op|.
bool canMoveTo(const Group &g, Operation *op) {
  for (Operation *member : g.ops)
    for (Operation *user : member->getUsers())
      if (!llvm::is_contained(g.ops, user) && user != op && user->isBeforeInBlock(op))
        return false;
  return true;
}

/// The layer's name, then the ops from the anchor on (prologue casts are
/// how the kernel loads, not what it computes).
std::string kernelName(const Group &g) {
  // Several layers' updates (mergeOptimizerUpdates): no one layer's name.
  if (g.ops.size() > 1 && isa<dl::OptimizerUpdateOp>(g.ops.front()))
    return "optimizer_update(" + std::to_string(g.ops.size()) + " parameters)";
  std::string name;
  Operation *anchor = g.anchor();
  if (auto loc = dyn_cast<NameLoc>(anchor->getLoc()))
    name = loc.getName().str() + ".";
  bool first = true;
  for (Operation *op : g.ops) {
    if (op != anchor && first)
      continue;
    name += (first ? "" : "+") + op->getName().stripDialect().str();
    first = false;
  }
  return name;
}

/// A dl.fused op running |ops| (cloned into its body), created by |b|: in
/// place when |b| has an insertion point, else detached. Its results are
/// the values of |ops| used outside them, listed in |outputs|.
dl::FusedOp buildGroup(OpBuilder &b, ArrayRef<Operation *> ops, const std::string &name,
                       SmallVectorImpl<Value> &outputs) {
  llvm::SetVector<Value> inputs;
  for (Operation *op : ops) {
    for (Value v : op->getOperands())
      if (!llvm::is_contained(ops, v.getDefiningOp()))
        inputs.insert(v);
    for (Value r : op->getResults())
      if (llvm::any_of(r.getUsers(), [&](Operation *u) { return !llvm::is_contained(ops, u); }))
        outputs.push_back(r);
  }
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  OpBuilder::InsertionGuard guard(b);
  auto fused = b.create<dl::FusedOp>(b.getFusedLoc(locs), TypeRange(ValueRange(outputs)),
                                     inputs.getArrayRef(), b.getStringAttr(name),
                                     /*kernels=*/nullptr, /*alternative_kernels=*/nullptr,
                                     /*ordered_sums=*/false);
  Block *body = b.createBlock(&fused.getBody());
  IRMapping map;
  for (Value v : inputs)
    map.map(v, body->addArgument(v.getType(), v.getLoc()));
  for (Operation *op : ops)
    b.clone(*op, map);
  SmallVector<Value> yielded;
  for (Value r : outputs)
    yielded.push_back(map.lookup(r));
  b.create<dl::YieldOp>(fused.getLoc(), yielded);
  return fused;
}

/// Whether a vendor library would run a group of |ops| on the GPU under
/// |source|.
bool libraryRuns(ArrayRef<Operation *> ops, kernels::KernelSource source) {
  if (source == kernels::KernelSource::kGenerated)
    return false;
  OpBuilder detached(ops.front()->getContext());
  SmallVector<Value> outputs;
  dl::FusedOp candidate = buildGroup(detached, ops, "candidate", outputs);
  bool runs = kernels::libraryRuns("cuda", candidate, source);
  candidate->erase();
  return runs;
}

/// Whether every target can run a group of |ops|, and (under --kernels
/// library or auto) one a library runs as |before| still is.
bool isLegalGroup(ArrayRef<Operation *> ops, ArrayRef<Operation *> before, kernels::KernelSource source) {
  OpBuilder detached(ops.front()->getContext());
  SmallVector<Value> outputs;
  dl::FusedOp candidate = buildGroup(detached, ops, "candidate", outputs);
  bool legal = kernels::runsOnEveryTarget(candidate);
  candidate->erase();
  return legal && (!libraryRuns(before, source) || libraryRuns(ops, source));
}

/// Whether every target can run |g| extended by |op| (and a library still
/// runs it where it ran |g|).
bool joinIsLegal(const Group &g, Operation *op, kernels::KernelSource source) {
  SmallVector<Operation *> ops(g.ops.begin(), g.ops.end());
  ops.push_back(op);
  return isLegalGroup(ops, g.ops, source);
}

/// Takes the pending casts that |op| (the last op of |g|) reads into |g|
/// as its prologue: a cast read by others is copied for |op| alone. Casts
/// of values from outside every kernel (parameters, inputs) have no
/// producer to end, so they join their readers, and the loads convert.
void takePrologueCasts(Group &g, Operation *op, llvm::SetVector<Operation *> &pending,
                       DenseMap<Operation *, Group *> &groupOf, kernels::KernelSource source) {
  for (unsigned i = 0; i < op->getNumOperands(); ++i) {
    auto c = op->getOperand(i).getDefiningOp<dl::CastOp>();
    if (!c || !pending.contains(c))
      continue;
    bool alone = llvm::all_of(c->getUsers(), [&](Operation *u) { return u == op; });
    Operation *cast = c;
    if (!alone) {
      OpBuilder b(op);
      cast = b.clone(*c);
    }
    SmallVector<Operation *> ops(g.ops.begin(), g.ops.end() - 1);
    ops.push_back(cast);
    ops.push_back(op);
    if (!alone)
      op->replaceUsesOfWith(c.getResult(), cast->getResult(0));
    if (!isLegalGroup(ops, g.ops, source)) {
      if (!alone) {
        op->replaceUsesOfWith(cast->getResult(0), c.getResult());
        cast->erase();
      }
      continue;
    }
    g.ops.insert(g.ops.end() - 1, cast);
    groupOf[cast] = &g;
    if (alone)
      pending.remove(c);
  }
}

/// The most parameters one optimizer kernel updates: its pointers (about 7
/// per parameter under Adam) stay well inside CUDA's 4 KiB of arguments.
constexpr size_t kUpdatesPerKernel = 32;

/// Whether one kernel may apply updates |a| and |b| alike: the same rule and
/// options (attributes), step, loss scale and gradient norm.
bool updateTogether(dl::OptimizerUpdateOp a, dl::OptimizerUpdateOp b) {
  return a->getAttrDictionary() == b->getAttrDictionary() && a.getStep() == b.getStep() &&
         a.getLossScale() == b.getLossScale() && a.getGradNorm() == b.getGradNorm() &&
         a.getSlots().size() == b.getSlots().size();
}

/// The update a group of that one op applies, or null.
dl::OptimizerUpdateOp loneUpdate(const Group &g) {
  return g.ops.size() == 1 ? dyn_cast<dl::OptimizerUpdateOp>(g.ops.front()) : dl::OptimizerUpdateOp();
}

/// Horizontal fusion: the optimizer updates of one step, each its own group
/// so far, become few kernels (PyTorch's fused and foreach optimizers) -- a
/// small model's step otherwise launches one tiny kernel per parameter. An
/// update moves down to the last of its kernel, so its parameter writes
/// (dl.assign, its only readers) move after it; nothing between may read
/// a parameter it writes.
void mergeOptimizerUpdates(std::vector<std::unique_ptr<Group>> &groups, kernels::KernelSource source) {
  SmallVector<Group *> updates;
  for (auto &g : groups)
    if (dl::OptimizerUpdateOp u = loneUpdate(*g);
        u && llvm::all_of(u->getUsers(), [](Operation *user) { return isa<dl::AssignOp>(user); }))
      updates.push_back(g.get());
  llvm::sort(updates, [](Group *a, Group *b) { return a->ops.front()->isBeforeInBlock(b->ops.front()); });
  auto mergeRun = [&](ArrayRef<Group *> run) {
    if (run.size() < 2)
      return;
    SmallVector<Operation *> ops;
    for (Group *g : run)
      ops.push_back(g->ops.front());
    if (!isLegalGroup(ops, {ops.front()}, source))
      return;
    Operation *after = ops.back();
    for (Operation *u : ArrayRef<Operation *>(ops).drop_back())
      for (Operation *user : llvm::make_early_inc_range(u->getUsers())) {
        user->moveAfter(after);
        after = user;
      }
    run.front()->ops = ops;
    for (Group *g : run.drop_front())
      g->ops.clear();
  };
  SmallVector<Group *> run;
  llvm::StringSet<> written; // the parameters the run's updates write
  for (Group *g : updates) {
    auto u = cast<dl::OptimizerUpdateOp>(g->ops.front());
    bool joins = !run.empty() && run.size() < kUpdatesPerKernel &&
                 updateTogether(cast<dl::OptimizerUpdateOp>(run.front()->ops.front()), u);
    // Nothing between the run and this update may read what the run writes.
    for (Operation *op = joins ? run.back()->ops.front()->getNextNode() : nullptr; op && op != u;
         op = op->getNextNode())
      if (auto weight = dyn_cast<dl::WeightOp>(op); weight && written.contains(weight.getParam()))
        joins = false;
    if (!joins) {
      mergeRun(run);
      run.clear();
      written.clear();
    }
    run.push_back(g);
    for (Operation *user : u->getUsers())
      written.insert(cast<dl::AssignOp>(user).getParam());
  }
  mergeRun(run);
  llvm::erase_if(groups, [](const std::unique_ptr<Group> &g) { return g->ops.empty(); });
}

void outline(Group &g) {
  Operation *last = g.ops.back();
  OpBuilder b(last->getContext());
  b.setInsertionPointAfter(last);
  SmallVector<Value> outputs;
  dl::FusedOp fused = buildGroup(b, g.ops, kernelName(g), outputs);
  for (auto [r, replacement] : llvm::zip(outputs, fused.getResults()))
    r.replaceAllUsesWith(replacement);
  for (Operation *op : llvm::reverse(g.ops))
    op->erase();
}

struct FuseKernelsPass : dlc::impl::FuseKernelsPassBase<FuseKernelsPass> {
  using FuseKernelsPassBase::FuseKernelsPassBase;

  void runOnOperation() override {
    std::optional<kernels::KernelSource> source = kernels::kernelSourceNamed(kernels);
    if (!source) {
      getOperation().emitError("dlc-fuse: kernels '") << kernels << "' is not generated, library or auto";
      return signalPassFailure();
    }
    getOperation().walk([&](func::FuncOp func) {
      if (func.isExternal())
        return;
      std::vector<std::unique_ptr<Group>> groups;
      DenseMap<Operation *, Group *> groupOf;
      // Snapshot the order: joining a group can move the current op up.
      SmallVector<Operation *> order;
      for (Operation &op : func.getBody().front().without_terminator())
        order.push_back(&op);
      // Casts no producer took as its epilogue, waiting for their readers.
      llvm::SetVector<Operation *> pending;
      for (Operation *op : order) {
        Role role = roleOf(op);
        if (role == Role::View || isa<dl::FusedOp>(op))
          continue;
        Group *target = nullptr;
        for (Value v : op->getOperands()) {
          Operation *producer = v.getDefiningOp();
          Group *g = producer ? groupOf.lookup(producer) : nullptr;
          if (!g || g->ops.back() != producer ||
              !canFollow(roleOf(producer), producer, op, role, *g) || !joinIsLegal(*g, op, *source))
            continue;
          if (canMoveTo(*g, op)) {
            target = g;
            break;
          }
          // An op that needs nothing computed after the group's tail (a
          // bias_grad the reverse sweep emitted after the tail's other
          // consumers) moves up to the tail instead.
          if (llvm::all_of(op->getOperands(), [&](Value x) {
                Operation *def = x.getDefiningOp();
                return !def || def == producer || def->isBeforeInBlock(producer);
              })) {
            op->moveAfter(producer);
            target = g;
            break;
          }
        }
        if (!target && role == Role::Cast) {
          pending.insert(op);
          continue;
        }
        if (!target) {
          groups.push_back(std::make_unique<Group>());
          target = groups.back().get();
        }
        target->ops.push_back(op);
        target->hasPool |= role == Role::Pool;
        target->hasBiasGrad |= role == Role::BiasGrad;
        groupOf[op] = target;
        takePrologueCasts(*target, op, pending, groupOf, *source);
      }
      // A cast no kernel could take (read only by views, parameter writes or
      // the function's results, with no producer kernel) runs on its own.
      for (Operation *c : pending) {
        if (c->use_empty()) {
          c->erase();
          continue;
        }
        groups.push_back(std::make_unique<Group>());
        groups.back()->ops.push_back(c);
      }
      mergeOptimizerUpdates(groups, *source);
      for (auto &g : groups)
        outline(*g);
    });
  }
};

} // namespace
