/*===- dlc_runtime.h - The runtime's C API ---------------------------------===
 *
 * For applications that embed a compiled model without C++: load a bundle,
 * create a session on a device, run programs, save and load checkpoints.
 * Every call returns a status code; dlc_last_error() describes the last
 * failure on the calling thread. Tensors are caller-owned; outputs point into
 * the session and stay valid until its next run.
 *
 *===----------------------------------------------------------------------===*/
#ifndef DLC_RUNTIME_H
#define DLC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  DLC_OK = 0,
  DLC_INVALID_ARGUMENT = 1,
  DLC_NOT_FOUND = 2,
  DLC_UNAVAILABLE = 3,
  DLC_DATA_LOSS = 4,
  DLC_INTERNAL = 5,
  DLC_RESOURCE_EXHAUSTED = 6,
} dlc_status;

typedef enum { DLC_F32 = 0, DLC_I32 = 1, DLC_I64 = 2 } dlc_dtype;

typedef struct {
  void *data;
  dlc_dtype dtype;
  int32_t rank;
  int64_t shape[8];
} dlc_tensor;

typedef struct dlc_session dlc_session;

/* The message of the last failed call on this thread ("" if none). */
const char *dlc_last_error(void);

/* Loads and verifies the bundle at |path| and creates a session on |device|
 * ("cpu"). */
dlc_status dlc_session_open(const char *path, const char *device, dlc_session **out);
void dlc_session_close(dlc_session *session);

/* Number of inputs/outputs of |program| ("infer", "grad", "train_step") and
 * the name and shape of input/output |index|. */
dlc_status dlc_program_signature(dlc_session *session, const char *program, size_t *inputs,
                                 size_t *outputs);
dlc_status dlc_program_input(dlc_session *session, const char *program, size_t index,
                             const char **name, dlc_tensor *spec);

/* Runs |program| on |inputs| (signature order, exact shapes); fills up to
 * |capacity| |outputs| and sets *|count| to the number of outputs. |step|
 * draws dropout masks in training programs. */
dlc_status dlc_run(dlc_session *session, const char *program, const dlc_tensor *inputs,
                   size_t num_inputs, uint64_t step, dlc_tensor *outputs, size_t capacity,
                   size_t *count);

dlc_status dlc_save_checkpoint(dlc_session *session, const char *path);
dlc_status dlc_load_checkpoint(dlc_session *session, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* DLC_RUNTIME_H */
