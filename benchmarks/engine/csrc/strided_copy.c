/* A strided slice as a copy of bytes (STRIDED_SLICE and RESHAPE, float_ops.py): out[i0..] = in[begin0 + i0 *
 * stride0, ...] over out_dims, strides positive, for any element type. Dimensions the slice takes whole merge
 * with the one before them, so BoolNet's channel halves ([1, 16, 16, 4, 64] -> [..., 32]) copy as 1024 runs of
 * 128 bytes; the runs (rows) split across the pool from 256 KiB. */
#include <string.h>
#include "lbe_internal.h"

enum { MAX_RANK = 8, COPY_SPLIT = 256 << 10 };

typedef struct {
  const char *in;
  char *out;
  int rank;
  int64_t in_step[MAX_RANK]; /* bytes between neighbours along each dimension of the input, times the stride */
  int64_t out_dims[MAX_RANK], row_bytes, element_bytes, start;
} copy_job;

/* Runs of `words` 4-byte words `step` words apart: cloned and vectorized, no call a run. */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void copy_words(const uint32_t *restrict in, uint32_t *restrict out, int64_t runs, int64_t words, int64_t step) {
  for (int64_t r = 0; r < runs; ++r)
    for (int64_t k = 0; k < words; ++k) out[r * words + k] = in[r * step + k];
}

static void copy_rows(void *ctx, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const copy_job *j = ctx;
  const int last = j->rank - 1;
  const int contiguous = j->in_step[last] == j->element_bytes;
  if (last == 1 && contiguous && j->row_bytes % 4 == 0 && j->in_step[0] % 4 == 0 && j->start % 4 == 0) {
    copy_words((const uint32_t *)(j->in + j->start + begin * j->in_step[0]), (uint32_t *)(j->out + begin * j->row_bytes),
               end - begin, j->row_bytes / 4, j->in_step[0] / 4);
    return;
  }
  for (int64_t row = begin; row < end; ++row) {
    int64_t from = j->start, rest = row;
    for (int d = last - 1; d >= 0; --d) {
      from += rest % j->out_dims[d] * j->in_step[d];
      rest /= j->out_dims[d];
    }
    char *to = j->out + row * j->row_bytes;
    if (contiguous) {
      memcpy(to, j->in + from, (size_t)j->row_bytes);
    } else {
      for (int64_t k = 0; k < j->out_dims[last]; ++k)
        memcpy(to + k * j->element_bytes, j->in + from + k * j->in_step[last], (size_t)j->element_bytes);
    }
  }
}

int lbe_strided_copy(const void *in, void *out, int rank, const int32_t *in_dims, const int32_t *begin,
                     const int32_t *stride, const int32_t *out_dims, int32_t element_bytes, lbe_pool *pool) {
  if (!in || !out || rank < 1 || rank > MAX_RANK || !in_dims || !begin || !stride || !out_dims || element_bytes < 1)
    return -1;
  int64_t dims[MAX_RANK], first[MAX_RANK], step[MAX_RANK], count[MAX_RANK];
  for (int d = 0; d < rank; ++d) {
    if (in_dims[d] < 0 || out_dims[d] < 0 || stride[d] < 1 || begin[d] < 0) return -1;
    if (out_dims[d] > 0 && (int64_t)begin[d] + (int64_t)(out_dims[d] - 1) * stride[d] >= in_dims[d]) return -1;
    if (out_dims[d] == 0) return 0;
    dims[d] = in_dims[d], first[d] = begin[d], step[d] = stride[d], count[d] = out_dims[d];
  }
  /* Merge dimension d + 1 into d while d + 1 is taken whole and d with stride 1. */
  int n = rank;
  for (int d = n - 2; d >= 0; --d) {
    if (step[d] != 1 || first[d + 1] || step[d + 1] != 1 || count[d + 1] != dims[d + 1]) continue;
    first[d] *= dims[d + 1], count[d] *= dims[d + 1], dims[d] *= dims[d + 1];
    for (int k = d + 1; k + 1 < n; ++k) dims[k] = dims[k + 1], first[k] = first[k + 1], step[k] = step[k + 1], count[k] = count[k + 1];
    --n;
  }
  copy_job job = {in, out, n, {0}, {0}, 0, element_bytes, 0};
  int64_t bytes = element_bytes, rows = 1;
  for (int d = n - 1; d >= 0; --d) {
    job.in_step[d] = bytes * step[d];
    job.start += bytes * first[d];
    job.out_dims[d] = count[d];
    bytes *= dims[d];
    if (d < n - 1) rows *= count[d];
  }
  if (n == 1) { /* one run: rows of it */
    job.rank = 2, job.out_dims[1] = count[0], job.in_step[1] = job.in_step[0], job.in_step[0] = 0, job.out_dims[0] = 1;
  }
  job.row_bytes = job.out_dims[job.rank - 1] * element_bytes;
  if (!lbe_pool_worth_splitting(pool, rows * job.row_bytes, COPY_SPLIT)) /* too little to wake a thread for */
    copy_rows(&job, 0, rows, 0);
  else
    lbe_pool_run(pool, copy_rows, &job, rows);
  return 0;
}
