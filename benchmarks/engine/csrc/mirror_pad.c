/* MIRROR_PAD as TFLite defines it: each output element is a copy of the input element at the mirrored
 * index (REFLECT leaves the edge out, SYMMETRIC repeats it), so any element type is moved as bytes and the
 * output equals TFLite's bit for bit. The trailing dimensions without padding are one memcpy per run (BoolNet
 * pads H and W of NHWC maps: one copy of channels * 4 bytes per output pixel); tflite-runtime's own kernel
 * computes every element's index separately. */
#include <string.h>
#include "lbe.h"

enum { MAX_RANK = 8 };

typedef struct {
  const char *in;
  char *out;
  int rank, inner; /* dims [inner, rank) carry no padding: one contiguous run per output index of [0, inner) */
  int64_t dims[MAX_RANK], before[MAX_RANK], out_dims[MAX_RANK];
  int64_t in_stride[MAX_RANK], out_stride[MAX_RANK], run_bytes;
  int symmetric;
} pad_job;

static int64_t mirrored(const pad_job *j, int d, int64_t o) {
  int64_t i = o - j->before[d];
  const int64_t n = j->dims[d];
  if (i < 0) i = j->symmetric ? -i - 1 : -i;
  if (i >= n) i = j->symmetric ? 2 * n - 1 - i : 2 * n - 2 - i;
  return i;
}

static void copy(const pad_job *j, int d, int64_t in_off, int64_t out_off) {
  if (d == j->inner) {
    memcpy(j->out + out_off, j->in + in_off, (size_t)j->run_bytes);
    return;
  }
  for (int64_t o = 0; o < j->out_dims[d]; ++o)
    copy(j, d + 1, in_off + mirrored(j, d, o) * j->in_stride[d], out_off + o * j->out_stride[d]);
}

int lbe_mirror_pad(const void *in, void *out, int rank, const int32_t *dims, const int64_t *pads, int symmetric,
                   int32_t element_bytes) {
  if (!in || !out || !dims || !pads || rank < 1 || rank > MAX_RANK || element_bytes < 1) return -1;
  pad_job j = {in, out, rank, 0, {0}, {0}, {0}, {0}, {0}, 0, symmetric != 0};
  for (int d = 0; d < rank; ++d) {
    const int64_t before = pads[2 * d], after = pads[2 * d + 1], limit = dims[d] - (symmetric ? 0 : 1);
    /* TFLite's limits: a pad at most the dimension (SYMMETRIC) or one less (REFLECT) */
    if (dims[d] < 1 || before < 0 || after < 0 || before > limit || after > limit) return -1;
    j.dims[d] = dims[d];
    j.before[d] = before;
    j.out_dims[d] = dims[d] + before + after;
    if (before || after) j.inner = d + 1;
  }
  int64_t in_stride = element_bytes, out_stride = element_bytes;
  for (int d = rank - 1; d >= 0; --d) {
    j.in_stride[d] = in_stride, j.out_stride[d] = out_stride;
    in_stride *= j.dims[d], out_stride *= j.out_dims[d];
  }
  if (j.inner == 0) { /* no padding at all */
    memcpy(out, in, (size_t)in_stride);
    return 0;
  }
  j.run_bytes = j.in_stride[j.inner - 1]; /* one element of dim inner - 1: the unpadded trailing dims */
  copy(&j, 0, 0, 0);
  return 0;
}
