/* DEPTHWISE_CONV_2D (float32, depth multiplier 1) with the LceQuantize that reads it fused: LAB's
 * binarizer is sign(x - depthwise(x)), which converts to a depthwise conv whose only reader is an
 * LceQuantize. The arithmetic is XNNPACK's (the kernel tflite-runtime runs it with), so the floats and
 * therefore the bits are the same: per channel acc = bias (or +0), then acc = fma(x, w, acc) over the
 * taps column by column (kernel x outer, y inner), a padded tap reading +0; then max(lo, acc) and
 * min(hi, acc) in that operand order (a NaN stays NaN), and bit 1 where the result is < 0.
 * Output rows are split across the pool; each row runs one channel block at a time over its pixels,
 * that block's weights held in registers (AVX-512: eight pixels at a time where all their taps are inside).
 * About as fast as XNNPACK's kernel at 56x56x64 (83 against ~73 us); about 3x slower on 7x7 maps, where no
 * run of eight pixels fits in a row (~16 against ~5 us). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>
#include "lbe_internal.h"

enum { MAX_TAPS = 64 };

typedef struct {
  const lbe_depthwise_params *p;
  const float *in, *filter, *bias, *zeros;
  float *out;
  int32_t *bits;
  int taps;
  int level;
  float lo, hi;
  const float ***rows; /* [thread] out_w * taps pointers: each pixel's taps in XNNPACK's order */
  int64_t offsets[MAX_TAPS]; /* tap t's offset (floats) from tap 0 for a pixel with every tap inside */
  int64_t weights[MAX_TAPS]; /* tap t's weights start at filter + weights[t] */
} dw_ctx;

/* Pointers to pixel (b, oy, ox)'s taps, column-major, padded ones at the zero row. */
static void tap_pointers(const dw_ctx *ctx, int32_t b, int32_t oy, int32_t ox, const float **taps) {
  const lbe_depthwise_params *p = ctx->p;
  int t = 0;
  for (int32_t kx = 0; kx < p->kernel_w; ++kx)
    for (int32_t ky = 0; ky < p->kernel_h; ++ky) {
      const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
      const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
      const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
      taps[t++] = inside ? ctx->in + (((size_t)b * p->in_h + iy) * p->in_w + ix) * p->channels : ctx->zeros;
    }
}

static void row_portable(const dw_ctx *ctx, const float **taps, float *out, int32_t *bits) {
  const lbe_depthwise_params *p = ctx->p;
  const int32_t c = p->channels, words = (c + 31) / 32;
  for (int32_t ox = 0; ox < p->out_w; ++ox) {
    const float **pt = taps + (size_t)ox * ctx->taps;
    for (int32_t ch = 0; ch < c; ++ch) {
      float acc = ctx->bias ? ctx->bias[ch] : 0.0f;
      for (int t = 0; t < ctx->taps; ++t) acc = fmaf(pt[t][ch], ctx->filter[ctx->weights[t] + ch], acc);
      acc = ctx->lo > acc ? ctx->lo : acc;
      acc = ctx->hi < acc ? ctx->hi : acc;
      if (out) out[(size_t)ox * c + ch] = acc;
      if (bits && acc < 0.0f) bits[(size_t)ox * words + ch / 32] |= (int32_t)(1u << (ch % 32));
    }
  }
}

LBE_TARGET_AVX2 static void row_avx2(const dw_ctx *ctx, const float **taps, float *out, int32_t *bits) {
  const lbe_depthwise_params *p = ctx->p;
  const int32_t c = p->channels, words = (c + 31) / 32, n = ctx->taps;
  const __m256 lo = _mm256_set1_ps(ctx->lo), hi = _mm256_set1_ps(ctx->hi), zero = _mm256_setzero_ps();
  for (int32_t c0 = 0; c0 < c; c0 += 8) {
    const int32_t left = c - c0 < 8 ? c - c0 : 8;
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 w[MAX_TAPS];
    for (int t = 0; t < n; ++t) w[t] = _mm256_maskload_ps(ctx->filter + ctx->weights[t] + c0, mask);
    const __m256 b = ctx->bias ? _mm256_maskload_ps(ctx->bias + c0, mask) : zero;
    for (int32_t ox = 0; ox < p->out_w; ++ox) {
      const float **pt = taps + (size_t)ox * n;
      __m256 acc = b;
      for (int t = 0; t < n; ++t) acc = _mm256_fmadd_ps(_mm256_maskload_ps(pt[t] + c0, mask), w[t], acc);
      acc = _mm256_min_ps(hi, _mm256_max_ps(lo, acc));
      if (out) _mm256_maskstore_ps(out + (size_t)ox * c + c0, mask, acc);
      if (bits) {
        const int negative = _mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps(acc, zero, _CMP_LT_OQ), _mm256_castsi256_ps(mask)));
        ((uint8_t *)(bits + (size_t)ox * words))[c0 / 8] = (uint8_t)negative;
      }
    }
  }
}

/* The clamp (max(lo, acc) then min(hi, acc), XNNPACK's operand order: a NaN stays NaN), the float store
 * and the block's 16 bits of pixel ox. */
LBE_TARGET_AVX512 static inline __attribute__((always_inline)) void finish_avx512(__m512 acc, __m512 lo, __m512 hi,
                                                                                  __mmask16 mask, float *out,
                                                                                  int32_t *bits, int32_t ox, int32_t c,
                                                                                  int32_t c0, int32_t words) {
  acc = _mm512_min_ps(hi, _mm512_max_ps(lo, acc));
  if (out) _mm512_mask_storeu_ps(out + (size_t)ox * c + c0, mask, acc);
  if (bits)
    ((uint16_t *)(bits + (size_t)ox * words))[c0 / 16] =
        (uint16_t)_mm512_mask_cmp_ps_mask(mask, acc, _mm512_setzero_ps(), _CMP_LT_OQ);
}

/* One channel block of a row's pixels; n (the tap count) is a constant where the caller specialises it,
 * so the block's weights stay in registers. Runs of eight pixels whose taps are all inside read them at
 * fixed offsets from each pixel's first tap, eight FMA chains at once (a row's last run overlapping the
 * one before); the other pixels one at a time through their tap pointers. */
LBE_TARGET_AVX512 static inline __attribute__((always_inline)) void block_avx512(
    const dw_ctx *ctx, const float **taps, float *out, int32_t *bits, int32_t c0, const int n,
    const float *row_start, int32_t inside_begin, int32_t inside_end) {
  const lbe_depthwise_params *p = ctx->p;
  const int32_t c = p->channels, words = (c + 31) / 32;
  const __m512 lo = _mm512_set1_ps(ctx->lo), hi = _mm512_set1_ps(ctx->hi);
  const int32_t left = c - c0 < 16 ? c - c0 : 16;
  const __mmask16 mask = (__mmask16)((1u << left) - 1u);
  __m512 w[MAX_TAPS];
#pragma GCC unroll 64
  for (int t = 0; t < n; ++t) w[t] = _mm512_maskz_loadu_ps(mask, ctx->filter + ctx->weights[t] + c0);
  const __m512 b = ctx->bias ? _mm512_maskz_loadu_ps(mask, ctx->bias + c0) : _mm512_setzero_ps();
  const int64_t step = (int64_t)p->stride_w * c;
  int32_t ox = 0;
  while (ox < p->out_w) {
    if (ox >= inside_begin && ox < inside_end && inside_end - inside_begin >= 8) {
      ox = ox + 8 <= inside_end ? ox : inside_end - 8; /* a last run overlaps the one before: same values */
      const float *first = row_start + ((int64_t)ox * p->stride_w - p->pad_left) * c + c0;
      __m512 a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
#pragma GCC unroll 64
      for (int t = 0; t < n; ++t) {
        const float *x = first + ctx->offsets[t];
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x), w[t], a0);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + step), w[t], a1);
        a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + 2 * step), w[t], a2);
        a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + 3 * step), w[t], a3);
        a4 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + 4 * step), w[t], a4);
        a5 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + 5 * step), w[t], a5);
        a6 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + 6 * step), w[t], a6);
        a7 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + 7 * step), w[t], a7);
      }
      finish_avx512(a0, lo, hi, mask, out, bits, ox, c, c0, words);
      finish_avx512(a1, lo, hi, mask, out, bits, ox + 1, c, c0, words);
      finish_avx512(a2, lo, hi, mask, out, bits, ox + 2, c, c0, words);
      finish_avx512(a3, lo, hi, mask, out, bits, ox + 3, c, c0, words);
      finish_avx512(a4, lo, hi, mask, out, bits, ox + 4, c, c0, words);
      finish_avx512(a5, lo, hi, mask, out, bits, ox + 5, c, c0, words);
      finish_avx512(a6, lo, hi, mask, out, bits, ox + 6, c, c0, words);
      finish_avx512(a7, lo, hi, mask, out, bits, ox + 7, c, c0, words);
      ox += 8;
      continue;
    }
    __m512 acc = b;
    if (ox >= inside_begin && ox < inside_end) {
      const float *first = row_start + ((int64_t)ox * p->stride_w - p->pad_left) * c + c0;
#pragma GCC unroll 64
      for (int t = 0; t < n; ++t) acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, first + ctx->offsets[t]), w[t], acc);
    } else {
      const float **pt = taps + (size_t)ox * n;
#pragma GCC unroll 64
      for (int t = 0; t < n; ++t) acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, pt[t] + c0), w[t], acc);
    }
    finish_avx512(acc, lo, hi, mask, out, bits, ox, c, c0, words);
    ++ox;
  }
}

LBE_TARGET_AVX512 static void row_avx512(const dw_ctx *ctx, const float **taps, float *out, int32_t *bits,
                                         const float *row_start, int32_t inside_begin, int32_t inside_end) {
  for (int32_t c0 = 0; c0 < ctx->p->channels; c0 += 16) {
    if (ctx->taps == 9)
      block_avx512(ctx, taps, out, bits, c0, 9, row_start, inside_begin, inside_end);
    else
      block_avx512(ctx, taps, out, bits, c0, ctx->taps, row_start, inside_begin, inside_end);
  }
}

static void run_rows(void *ctx_, int64_t begin, int64_t end, int thread) {
  const dw_ctx *ctx = ctx_;
  const lbe_depthwise_params *p = ctx->p;
  const int32_t words = (p->channels + 31) / 32;
  const float **taps = ctx->rows[thread];
  for (int64_t row = begin; row < end; ++row) {
    const int32_t b = (int32_t)(row / p->out_h), oy = (int32_t)(row % p->out_h);
    /* columns whose taps are all inside, when the row's are, read them at fixed offsets from the first;
     * the others through pointers (a padded tap points at zeros) */
    int32_t inside_begin = 0, inside_end = 0;
    const int32_t iy = oy * p->stride_h - p->pad_top;
    if (iy >= 0 && iy + (p->kernel_h - 1) * p->dilation_h < p->in_h) {
      /* ox * stride_w >= pad_left, and ox * stride_w - pad_left + (kernel_w - 1) * dilation_w < in_w */
      const int32_t last = p->in_w - 1 - (p->kernel_w - 1) * p->dilation_w + p->pad_left;
      inside_begin = (p->pad_left + p->stride_w - 1) / p->stride_w;
      inside_end = last < 0 ? 0 : last / p->stride_w + 1;
      inside_end = inside_end < p->out_w ? inside_end : p->out_w;
      inside_begin = inside_begin < inside_end ? inside_begin : inside_end;
    }
    if (ctx->level != LBE_AVX512) inside_begin = inside_end = 0;
    for (int32_t ox = 0; ox < p->out_w; ++ox)
      if (ox < inside_begin || ox >= inside_end) tap_pointers(ctx, b, oy, ox, taps + (size_t)ox * ctx->taps);
    const float *row_start = ctx->in + ((int64_t)b * p->in_h + iy) * p->in_w * p->channels;
    float *out = ctx->out ? ctx->out + (size_t)row * p->out_w * p->channels : NULL;
    int32_t *bits = ctx->bits ? ctx->bits + (size_t)row * p->out_w * words : NULL;
    if (bits) memset(bits, 0, sizeof(int32_t) * (size_t)p->out_w * words); /* halves past the channels stay 0 */
    if (ctx->level == LBE_AVX512)
      row_avx512(ctx, taps, out, bits, row_start, inside_begin, inside_end);
    else if (ctx->level == LBE_AVX2)
      row_avx2(ctx, taps, out, bits);
    else
      row_portable(ctx, taps, out, bits);
  }
}

int lbe_depthwise_f32(const float *in, const float *filter, const float *bias, float *out, int32_t *bits,
                      const lbe_depthwise_params *p, int level, lbe_pool *pool) {
  const int taps = p->kernel_h * p->kernel_w;
  if (!in || !filter || (!out && !bits) || p->batch < 1 || p->channels < 1 || p->out_h < 1 || p->out_w < 1 ||
      taps < 1 || taps > MAX_TAPS || p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1 ||
      !lbe_level_supported(level))
    return -1;
  if (p->activation < 0 || p->activation > 3) return -1;
  float lo, hi;
  lbe_activation_bounds(p->activation, &lo, &hi);
  const int threads = lbe_pool_threads(pool);
  const float **rows[threads];
  float *zeros = calloc((size_t)p->channels + 16, sizeof(float));
  int ok = zeros != NULL;
  for (int t = 0; t < threads; ++t) ok &= (rows[t] = malloc(sizeof(float *) * (size_t)p->out_w * taps)) != NULL;
  if (ok) {
    dw_ctx ctx = {p, in, filter, bias, zeros, out, bits, taps, level, lo, hi, rows, {0}, {0}};
    for (int t = 0; t < taps; ++t) { /* taps column by column: t = kx * kernel_h + ky */
      const int64_t kx = t / p->kernel_h, ky = t % p->kernel_h;
      ctx.offsets[t] = (ky * p->dilation_h * p->in_w + kx * p->dilation_w) * p->channels;
      ctx.weights[t] = (ky * p->kernel_w + kx) * p->channels; /* the filter is [kernel_h][kernel_w][channels] */
    }
    lbe_pool_run(pool, run_rows, &ctx, (int64_t)p->batch * p->out_h);
  }
  for (int t = 0; t < threads; ++t) free(rows[t]);
  free(zeros);
  return ok ? 0 : -1;
}
