/* BoolNet's multi-slice sign as LCE converts it: TILE (k copies along the channels) -> ADD or SUB of a
 * constant [k * channels] -> LceQuantize [-> LceDequantize], in one pass: each pixel's k * channels values
 * x[c] + t[j * channels + c] (or x[c] - t[...]) are the same IEEE float operations as the ADD/SUB, then
 * packed and unpacked by the engine's LceQuantize and LceDequantize, so the outputs equal the four ops'. */
#include <immintrin.h>
#include <stdlib.h>
#include "lbe_internal.h"

enum { SCRATCH_FLOATS = 16384 }; /* a chunk of pixels' values at a time (64 KiB, stays in L2) */

typedef struct {
  const float *x, *thresholds;
  int64_t pixels;
  int32_t channels, slices, subtract, level, chunk;
  float *signs;
  int32_t *bits;
} sign_job;

/* Cloned and vectorized: one IEEE add or subtract per value at any width, n pixels. */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void slice_values(const float *restrict x, const float *restrict t, float *restrict v, int64_t n,
                         int32_t channels, int32_t slices, int subtract) {
  for (int64_t i = 0; i < n; ++i, x += channels)
    for (int32_t j = 0; j < slices; ++j, v += channels) {
      const float *tj = t + (size_t)j * channels;
      if (subtract)
        for (int32_t c = 0; c < channels; ++c) v[c] = x[c] - tj[c];
      else
        for (int32_t c = 0; c < channels; ++c) v[c] = x[c] + tj[c];
    }
}

/* AVX-512 with channels a multiple of 16 (BoolNet's): each 16 values go from registers to 16 bits (x < 0, as
 * lbe_quantize_avx512) and 16 signs (bit 1 -> -1.0f, as LceDequantize), no intermediate array. Slice by slice:
 * a `k % channels` per vector cost 12-25 % of the op (BoolNet's 32-128 channels, 4 slices). */
LBE_TARGET_AVX512 static void signs_avx512(const float *x, const float *t, int64_t pixels, int32_t channels,
                                           int32_t slices, int subtract, float *signs, int32_t *bits) {
  const int32_t width = channels * slices, halves = 2 * ((width + 31) / 32);
  const __m512 zero = _mm512_setzero_ps(), plus = _mm512_set1_ps(1.0f), minus = _mm512_set1_ps(-1.0f);
  for (int64_t px = 0; px < pixels; ++px, x += channels) {
    uint16_t *b = bits ? (uint16_t *)(bits + px * (halves / 2)) : NULL;
    float *s = signs ? signs + px * width : NULL;
    for (int32_t j = 0, k = 0; j < slices; ++j)
      for (int32_t c = 0; c < channels; c += 16, k += 16) {
        const __m512 xv = _mm512_loadu_ps(x + c), tv = _mm512_loadu_ps(t + k);
        const __m512 v = subtract ? _mm512_sub_ps(xv, tv) : _mm512_add_ps(xv, tv);
        const __mmask16 negative = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
        if (b) b[k / 16] = (uint16_t)negative;
        if (s) _mm512_storeu_ps(s + k, _mm512_mask_blend_ps(negative, plus, minus));
      }
    if (b && (width / 16) % 2) b[width / 16] = 0; /* the last word's unused upper half */
  }
}

/* AVX2 with channels a multiple of 8: each 8 values go from registers to one byte of bits (x < 0) and 8 signs,
 * with no array of values in between (the generic path writes and rereads one: 8-16 % slower on BoolNet). */
LBE_TARGET_AVX2 static void signs_avx2(const float *x, const float *t, int64_t pixels, int32_t channels,
                                       int32_t slices, int subtract, float *signs, int32_t *bits) {
  const int32_t width = channels * slices, bytes = 4 * ((width + 31) / 32);
  const __m256 zero = _mm256_setzero_ps(), plus = _mm256_set1_ps(1.0f), minus = _mm256_set1_ps(-1.0f);
  for (int64_t px = 0; px < pixels; ++px, x += channels) {
    uint8_t *b = bits ? (uint8_t *)(bits + px * (bytes / 4)) : NULL;
    float *s = signs ? signs + px * width : NULL;
    for (int32_t j = 0, k = 0; j < slices; ++j)
      for (int32_t c = 0; c < channels; c += 8, k += 8) {
        const __m256 xv = _mm256_loadu_ps(x + c), tv = _mm256_loadu_ps(t + k);
        const __m256 v = subtract ? _mm256_sub_ps(xv, tv) : _mm256_add_ps(xv, tv);
        const __m256 negative = _mm256_cmp_ps(v, zero, _CMP_LT_OQ);
        if (b) b[k / 8] = (uint8_t)_mm256_movemask_ps(negative);
        if (s) _mm256_storeu_ps(s + k, _mm256_blendv_ps(plus, minus, negative));
      }
    for (int32_t k = width / 8; b && k < bytes; ++k) b[k] = 0; /* the last word's unused upper bytes */
  }
}

static void sign_units(void *job_, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const sign_job *j = job_;
  const int32_t width = j->channels * j->slices, words = (width + 31) / 32;
  if (j->level == LBE_AVX512 && j->channels % 16 == 0) {
    const int64_t first = begin * j->chunk, last = end * j->chunk < j->pixels ? end * j->chunk : j->pixels;
    signs_avx512(j->x + first * j->channels, j->thresholds, last - first, j->channels, j->slices, j->subtract,
                 j->signs ? j->signs + first * width : NULL, j->bits ? j->bits + first * words : NULL);
    return;
  }
  if (j->level == LBE_AVX2 && j->channels % 8 == 0) {
    const int64_t first = begin * j->chunk, last = end * j->chunk < j->pixels ? end * j->chunk : j->pixels;
    signs_avx2(j->x + first * j->channels, j->thresholds, last - first, j->channels, j->slices, j->subtract,
               j->signs ? j->signs + first * width : NULL, j->bits ? j->bits + first * words : NULL);
    return;
  }
  float *values = malloc(sizeof(float) * (size_t)j->chunk * width);
  int32_t *own_bits = j->bits ? NULL : malloc(sizeof(int32_t) * (size_t)j->chunk * words);
  if (!values || (!j->bits && !own_bits)) abort(); /* out of memory */
  for (int64_t unit = begin; unit < end; ++unit) {
    const int64_t first = unit * j->chunk, n = first + j->chunk < j->pixels ? j->chunk : j->pixels - first;
    slice_values(j->x + first * j->channels, j->thresholds, values, n, j->channels, j->slices, j->subtract);
    int32_t *bits = j->bits ? j->bits + first * words : own_bits;
    lbe_quantize_f32(values, bits, n, width, j->level);
    if (j->signs) lbe_dequantize_f32_at(bits, j->signs + first * width, n, width, j->level);
  }
  free(values);
  free(own_bits);
}

int lbe_multi_slice_sign(const float *x, const float *thresholds, int64_t pixels, int32_t channels, int32_t slices,
                         int subtract, float *signs, int32_t *bits, int level, lbe_pool *pool) {
  if (!x || !thresholds || (!signs && !bits) || pixels < 0 || channels < 1 || slices < 1 || !lbe_level_supported(level))
    return -1;
  const int64_t width = (int64_t)channels * slices;
  sign_job job = {x, thresholds, pixels, channels, slices, subtract != 0, level, 1, signs, bits};
  job.chunk = width >= SCRATCH_FLOATS ? 1 : (int32_t)(SCRATCH_FLOATS / width);
  const int64_t units = (pixels + job.chunk - 1) / job.chunk;
  if (!lbe_pool_worth_splitting(pool, pixels * width, 64 << 10)) /* too little to wake a thread for */
    sign_units(&job, 0, units, 0);
  else
    lbe_pool_run(pool, sign_units, &job, units);
  return 0;
}
