//===- dlc_runtime.cc - The runtime's C API over Session ------------------===//
#include "runtime/dlc_runtime.h"

#include "runtime/session.h"

#include <cstring>
#include <new>
#include <string>

using namespace dlc::rt;

struct dlc_session {
  std::unique_ptr<Session> session;
  std::vector<std::string> names; // storage for names handed out
};

namespace {

thread_local std::string lastError;

dlc_status report(const Status &status) {
  if (status.ok())
    return DLC_OK;
  lastError = status.message();
  switch (status.code()) {
  case StatusCode::kInvalidArgument: return DLC_INVALID_ARGUMENT;
  case StatusCode::kNotFound: return DLC_NOT_FOUND;
  case StatusCode::kUnavailable: return DLC_UNAVAILABLE;
  case StatusCode::kDataLoss: return DLC_DATA_LOSS;
  case StatusCode::kResourceExhausted: return DLC_RESOURCE_EXHAUSTED;
  default: return DLC_INTERNAL;
  }
}

dlc_status invalid(const std::string &message) {
  return report(Status(StatusCode::kInvalidArgument, message));
}

bool toView(const dlc_tensor &t, TensorView *v) {
  if (t.rank < 0 || t.rank > 8 || int(t.dtype) < 0 || int(t.dtype) > 2)
    return false;
  v->data = t.data;
  v->dtype = DType(t.dtype);
  v->shape.assign(t.shape, t.shape + t.rank);
  return true;
}

void fromView(const TensorView &v, dlc_tensor *t) {
  t->data = v.data;
  t->dtype = dlc_dtype(v.dtype);
  t->rank = int32_t(v.shape.size());
  for (size_t i = 0; i < v.shape.size() && i < 8; ++i)
    t->shape[i] = v.shape[i];
}

} // namespace

extern "C" {

const char *dlc_last_error(void) { return lastError.c_str(); }

dlc_status dlc_session_open(const char *path, const char *device, dlc_session **out) {
  if (!path || !out)
    return invalid("dlc_session_open: null argument");
  if (device && std::strcmp(device, "cpu") != 0)
    return report(Status(StatusCode::kUnavailable,
                         std::string("device '") + device + "' is not available (devices: cpu)"));
  std::unique_ptr<Bundle> bundle;
  if (dlc_status s = report(Bundle::load(path, &bundle)))
    return s;
  auto *session = new (std::nothrow) dlc_session();
  if (!session)
    return report(Status(StatusCode::kUnavailable, "out of memory"));
  if (dlc_status s = report(Session::create(std::move(bundle), createCpuDevice(), &session->session))) {
    delete session;
    return s;
  }
  *out = session;
  return DLC_OK;
}

void dlc_session_close(dlc_session *session) { delete session; }

dlc_status dlc_program_signature(dlc_session *session, const char *program, size_t *inputs,
                                 size_t *outputs) {
  if (!session || !program)
    return invalid("dlc_program_signature: null argument");
  if (!session->session->hasProgram(program))
    return report(Status(StatusCode::kNotFound, std::string("no program '") + program + "'"));
  if (inputs)
    *inputs = session->session->inputs(program).size();
  if (outputs)
    *outputs = session->session->outputs(program).size();
  return DLC_OK;
}

dlc_status dlc_program_input(dlc_session *session, const char *program, size_t index,
                             const char **name, dlc_tensor *spec) {
  if (!session || !program || !spec)
    return invalid("dlc_program_input: null argument");
  std::vector<TensorSpec> specs = session->session->inputs(program);
  if (index >= specs.size())
    return invalid("input index " + std::to_string(index) + " out of range (" +
                   std::to_string(specs.size()) + " inputs)");
  session->names.push_back(specs[index].name);
  if (name)
    *name = session->names.back().c_str();
  fromView(TensorView{nullptr, specs[index].dtype, specs[index].shape}, spec);
  return DLC_OK;
}

dlc_status dlc_run(dlc_session *session, const char *program, const dlc_tensor *inputs,
                   size_t num_inputs, uint64_t step, dlc_tensor *outputs, size_t capacity,
                   size_t *count) {
  if (!session || !program || (num_inputs && !inputs))
    return invalid("dlc_run: null argument");
  std::vector<TensorView> in(num_inputs), out;
  for (size_t i = 0; i < num_inputs; ++i)
    if (!toView(inputs[i], &in[i]))
      return invalid("dlc_run: input " + std::to_string(i) + " has a bad rank or dtype");
  RunOptions options;
  options.step = step;
  if (dlc_status s = report(session->session->run(program, in, &out, options)))
    return s;
  for (size_t i = 0; i < out.size() && i < capacity; ++i)
    fromView(out[i], &outputs[i]);
  if (count)
    *count = out.size();
  return DLC_OK;
}

dlc_status dlc_save_checkpoint(dlc_session *session, const char *path) {
  if (!session || !path)
    return invalid("dlc_save_checkpoint: null argument");
  return report(session->session->saveCheckpoint(path, {}));
}

dlc_status dlc_load_checkpoint(dlc_session *session, const char *path) {
  if (!session || !path)
    return invalid("dlc_load_checkpoint: null argument");
  return report(session->session->loadCheckpoint(path, nullptr));
}

} // extern "C"
