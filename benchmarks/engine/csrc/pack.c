/* PACK as TFLite defines it: n inputs of one shape stacked along a new axis, so output [o][i][k] is input i's
 * [o][k] (o over the dimensions before the axis, k over those after it). A copy of bytes: the output equals
 * TFLite's bit for bit for any element type. TFLite's own kernel copies one memcpy per (o, i): on BoolNet's
 * channel shuffle (axis last, so one 4-byte element each) that is 64K calls per op, ~40 % of the model. */
#include <string.h>
#include "lbe_internal.h"

typedef struct {
  const char *const *in;
  char *out;
  int n;
  int64_t inner_bytes;
} pack_job;

/* Two inputs of 4-byte elements interleaved (the channel shuffle): cloned and vectorized as a shuffle. */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void interleave2(const uint32_t *restrict a, const uint32_t *restrict b, uint32_t *restrict out, int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    out[2 * k] = a[k];
    out[2 * k + 1] = b[k];
  }
}

static void pack_rows(void *ctx, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const pack_job *j = ctx;
  const int64_t inner = j->inner_bytes;
  if (inner == 4 && j->n == 2) {
    interleave2((const uint32_t *)j->in[0] + begin, (const uint32_t *)j->in[1] + begin,
                (uint32_t *)j->out + 2 * begin, end - begin);
    return;
  }
  if (inner == 4) {
    uint32_t *out = (uint32_t *)j->out;
    for (int64_t o = begin; o < end; ++o)
      for (int i = 0; i < j->n; ++i) out[o * j->n + i] = ((const uint32_t *)j->in[i])[o];
    return;
  }
  for (int64_t o = begin; o < end; ++o)
    for (int i = 0; i < j->n; ++i)
      memcpy(j->out + (o * j->n + i) * inner, j->in[i] + o * inner, (size_t)inner);
}

int lbe_pack(const void *const *inputs, int n, void *out, int64_t outer, int64_t inner_bytes, lbe_pool *pool) {
  if (!inputs || !out || n < 1 || outer < 0 || inner_bytes < 1) return -1;
  for (int i = 0; i < n; ++i)
    if (!inputs[i]) return -1;
  pack_job job = {(const char *const *)inputs, out, n, inner_bytes};
  if (!lbe_pool_worth_splitting(pool, outer * n * inner_bytes, 256 << 10)) { /* too little to wake a thread for */
    pack_rows(&job, 0, outer, 0);
    return 0;
  }
  lbe_pool_run(pool, pack_rows, &job, outer);
  return 0;
}
