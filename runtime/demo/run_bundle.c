/*===- run_bundle.c - Embedding a compiled model from C -------------------===
 *
 * The smallest program that uses a bundle through the C API: open it on the
 * CPU, feed zeros to the inference program, print the first output row.
 * Usage: run_bundle MODEL.dlcb
 *
 *===----------------------------------------------------------------------===*/
#include "runtime/dlc_runtime.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.dlcb\n", argv[0]);
    return 2;
  }
  dlc_session *session = NULL;
  if (dlc_session_open(argv[1], "cpu", &session) != DLC_OK) {
    fprintf(stderr, "error: %s\n", dlc_last_error());
    return 1;
  }
  size_t inputs = 0, outputs = 0;
  dlc_tensor input;
  const char *name = NULL;
  if (dlc_program_signature(session, "infer", &inputs, &outputs) != DLC_OK || inputs != 1 ||
      dlc_program_input(session, "infer", 0, &name, &input) != DLC_OK) {
    fprintf(stderr, "error: %s\n", dlc_last_error());
    dlc_session_close(session);
    return 1;
  }
  size_t elements = 1;
  for (int i = 0; i < input.rank; ++i)
    elements *= (size_t)input.shape[i];
  input.data = calloc(elements, 8);
  dlc_tensor result;
  size_t count = 0;
  dlc_status status = dlc_run(session, "infer", &input, 1, 0, &result, 1, &count);
  if (status != DLC_OK) {
    fprintf(stderr, "error: %s\n", dlc_last_error());
  } else {
    printf("input %s rank %d; %zu output(s), first of shape [%lld, %lld]:", name, input.rank,
           count, (long long)result.shape[0], (long long)result.shape[1]);
    for (int64_t j = 0; j < result.shape[1]; ++j)
      printf(" %.4f", ((const float *)result.data)[j]);
    printf("\n");
  }
  free(input.data);
  dlc_session_close(session);
  return status == DLC_OK ? 0 : 1;
}
