/* Float pooling. MAX_POOL_2D as TFLite's reference kernel computes it: per channel, m = lowest float, then
 * m = m < x ? x : m over the window's in-bounds pixels in row-major order, then the fused activation
 * min(max(m, lo), hi). vmaxps(x, m) and the clamps are those same selects, so every level gives the
 * reference's bits (NaN inputs and signed zeros included). Output rows are split across the pool. */
#include <float.h>
#include <immintrin.h>
#include "lbe_internal.h"

typedef struct {
  const float *in;
  float *out;
  lbe_pool2d_params p;
  int level;
  float lo, hi;
} pool_ctx;

/* The window of output pixel (oy, ox) clipped to the input: rows [y0, y1), columns [x0, x1). */
static void window(const lbe_pool2d_params *p, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1, int32_t *x0,
                   int32_t *x1) {
  const int32_t iy = oy * p->stride_h - p->pad_top, ix = ox * p->stride_w - p->pad_left;
  *y0 = iy < 0 ? 0 : iy;
  *y1 = iy + p->filter_h < p->in_h ? iy + p->filter_h : p->in_h;
  *x0 = ix < 0 ? 0 : ix;
  *x1 = ix + p->filter_w < p->in_w ? ix + p->filter_w : p->in_w;
}

static void row_portable(const pool_ctx *ctx, int32_t b, int32_t oy) {
  const lbe_pool2d_params *p = &ctx->p;
  const int32_t ch = p->channels;
  for (int32_t ox = 0; ox < p->out_w; ++ox) {
    int32_t y0, y1, x0, x1;
    window(p, oy, ox, &y0, &y1, &x0, &x1);
    float *o = ctx->out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * ch;
    for (int32_t c = 0; c < ch; ++c) o[c] = -FLT_MAX;
    for (int32_t y = y0; y < y1; ++y)
      for (int32_t x = x0; x < x1; ++x) {
        const float *v = ctx->in + (((size_t)b * p->in_h + y) * p->in_w + x) * ch;
        for (int32_t c = 0; c < ch; ++c) o[c] = o[c] < v[c] ? v[c] : o[c];
      }
    for (int32_t c = 0; c < ch; ++c) {
      const float m = o[c] < ctx->lo ? ctx->lo : o[c];
      o[c] = ctx->hi < m ? ctx->hi : m;
    }
  }
}

LBE_TARGET_AVX2 static void row_avx2(const pool_ctx *ctx, int32_t b, int32_t oy) {
  const lbe_pool2d_params *p = &ctx->p;
  const int32_t ch = p->channels, full = ch / 8 * 8;
  const __m256 lowest = _mm256_set1_ps(-FLT_MAX), lo = _mm256_set1_ps(ctx->lo), hi = _mm256_set1_ps(ctx->hi);
  for (int32_t ox = 0; ox < p->out_w; ++ox) {
    int32_t y0, y1, x0, x1;
    window(p, oy, ox, &y0, &y1, &x0, &x1);
    float *o = ctx->out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * ch;
    for (int32_t c = 0; c < full; c += 8) {
      __m256 m = lowest;
      for (int32_t y = y0; y < y1; ++y)
        for (int32_t x = x0; x < x1; ++x)
          m = _mm256_max_ps(_mm256_loadu_ps(ctx->in + (((size_t)b * p->in_h + y) * p->in_w + x) * ch + c), m);
      _mm256_storeu_ps(o + c, _mm256_min_ps(hi, _mm256_max_ps(lo, m)));
    }
    for (int32_t c = full; c < ch; ++c) {
      float m = -FLT_MAX;
      for (int32_t y = y0; y < y1; ++y)
        for (int32_t x = x0; x < x1; ++x) {
          const float v = ctx->in[(((size_t)b * p->in_h + y) * p->in_w + x) * ch + c];
          m = m < v ? v : m;
        }
      m = m < ctx->lo ? ctx->lo : m;
      o[c] = ctx->hi < m ? ctx->hi : m;
    }
  }
}

LBE_TARGET_AVX512 static void row_avx512(const pool_ctx *ctx, int32_t b, int32_t oy) {
  const lbe_pool2d_params *p = &ctx->p;
  const int32_t ch = p->channels;
  const __m512 lowest = _mm512_set1_ps(-FLT_MAX), lo = _mm512_set1_ps(ctx->lo), hi = _mm512_set1_ps(ctx->hi);
  for (int32_t ox = 0; ox < p->out_w; ++ox) {
    int32_t y0, y1, x0, x1;
    window(p, oy, ox, &y0, &y1, &x0, &x1);
    float *o = ctx->out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * ch;
    for (int32_t c = 0; c < ch; c += 16) {
      const __mmask16 k = ch - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (ch - c)) - 1u);
      __m512 m = lowest;
      for (int32_t y = y0; y < y1; ++y)
        for (int32_t x = x0; x < x1; ++x)
          m = _mm512_max_ps(_mm512_maskz_loadu_ps(k, ctx->in + (((size_t)b * p->in_h + y) * p->in_w + x) * ch + c), m);
      _mm512_mask_storeu_ps(o + c, k, _mm512_min_ps(hi, _mm512_max_ps(lo, m)));
    }
  }
}

static void run_rows(void *ctx_, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const pool_ctx *ctx = ctx_;
  for (int64_t row = begin; row < end; ++row) {
    const int32_t b = (int32_t)(row / ctx->p.out_h), oy = (int32_t)(row % ctx->p.out_h);
    if (ctx->level >= LBE_AVX512)
      row_avx512(ctx, b, oy);
    else if (ctx->level == LBE_AVX2)
      row_avx2(ctx, b, oy);
    else
      row_portable(ctx, b, oy);
  }
}

int lbe_maxpool2d_f32(const float *in, float *out, const lbe_pool2d_params *p, int level, lbe_pool *pool) {
  if (!in || !out || !p || !lbe_level_supported(level) || p->activation < 0 || p->activation > 3) return -1;
  const int32_t dims[] = {p->batch, p->in_h, p->in_w, p->channels, p->out_h, p->out_w,
                          p->filter_h, p->filter_w, p->stride_h, p->stride_w};
  for (size_t i = 0; i < sizeof dims / sizeof dims[0]; ++i)
    if (dims[i] < 1) return -1;
  if (p->pad_top < 0 || p->pad_left < 0) return -1;
  /* NONE clamps to [-inf, inf] as XNNPACK's max pooling (LCE's float path) does */
  pool_ctx ctx = {in, out, *p, level, -__builtin_inff(), __builtin_inff()};
  if (p->activation == 1) ctx.lo = 0.0f;
  if (p->activation == 2) ctx.lo = -1.0f, ctx.hi = 1.0f;
  if (p->activation == 3) ctx.lo = 0.0f, ctx.hi = 6.0f;
  lbe_pool_run(pool, run_rows, &ctx, (int64_t)p->batch * p->out_h);
  return 0;
}

/* Float AVERAGE_POOL_2D for windows of at most 9 pixels that never leave the input, with XNNPACK's arithmetic
 * (tflite-runtime's path for it), so outputs are the same bits: the window's pixels in column-major order are
 * i0..i8 (missing ones +0.0), summed as ((i2+i3)+(i4+i5)) + (((i0+i1)+i8)+(i6+i7)), times 1/(pool size),
 * then max(y, lo) and min(y, hi) with y first (a NaN becomes lo). */
typedef struct {
  const float *in;
  float *out;
  lbe_pool2d_params p;
  int level;
  float scale, lo, hi;
} avg_ctx;

static inline float avg_tree(const float *v) {
  const float s01 = v[0] + v[1], s23 = v[2] + v[3], s45 = v[4] + v[5], s67 = v[6] + v[7];
  const float s018 = s01 + v[8], s2345 = s23 + s45, s01678 = s018 + s67;
  return s2345 + s01678;
}

static void avg_row_portable(const avg_ctx *ctx, int32_t b, int32_t oy) {
  const lbe_pool2d_params *p = &ctx->p;
  const int32_t ch = p->channels;
  for (int32_t ox = 0; ox < p->out_w; ++ox) {
    const float *taps[9];
    int32_t t = 0;
    for (int32_t kx = 0; kx < p->filter_w; ++kx)
      for (int32_t ky = 0; ky < p->filter_h; ++ky)
        taps[t++] = ctx->in + (((size_t)b * p->in_h + oy * p->stride_h + ky) * p->in_w + ox * p->stride_w + kx) * ch;
    float *o = ctx->out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * ch;
    for (int32_t c = 0; c < ch; ++c) {
      float v[9] = {0};
      for (int32_t i = 0; i < t; ++i) v[i] = taps[i][c];
      float y = avg_tree(v) * ctx->scale;
      y = y > ctx->lo ? y : ctx->lo;
      o[c] = y < ctx->hi ? y : ctx->hi;
    }
  }
}

LBE_TARGET_AVX2 static void avg_row_avx2(const avg_ctx *ctx, int32_t b, int32_t oy) {
  const lbe_pool2d_params *p = &ctx->p;
  const int32_t ch = p->channels, full = ch / 8 * 8;
  const __m256 scale = _mm256_set1_ps(ctx->scale), lo = _mm256_set1_ps(ctx->lo), hi = _mm256_set1_ps(ctx->hi);
  for (int32_t ox = 0; ox < p->out_w; ++ox) {
    const float *taps[9];
    int32_t t = 0;
    for (int32_t kx = 0; kx < p->filter_w; ++kx)
      for (int32_t ky = 0; ky < p->filter_h; ++ky)
        taps[t++] = ctx->in + (((size_t)b * p->in_h + oy * p->stride_h + ky) * p->in_w + ox * p->stride_w + kx) * ch;
    float *o = ctx->out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * ch;
    for (int32_t c = 0; c < full; c += 8) {
      __m256 v[9];
      for (int32_t i = 0; i < 9; ++i) v[i] = i < t ? _mm256_loadu_ps(taps[i] + c) : _mm256_setzero_ps();
      const __m256 s01 = _mm256_add_ps(v[0], v[1]), s23 = _mm256_add_ps(v[2], v[3]);
      const __m256 s45 = _mm256_add_ps(v[4], v[5]), s67 = _mm256_add_ps(v[6], v[7]);
      const __m256 sum = _mm256_add_ps(_mm256_add_ps(s23, s45), _mm256_add_ps(_mm256_add_ps(s01, v[8]), s67));
      _mm256_storeu_ps(o + c, _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(sum, scale), lo), hi));
    }
    for (int32_t c = full; c < ch; ++c) {
      float v[9] = {0};
      for (int32_t i = 0; i < t; ++i) v[i] = taps[i][c];
      float y = avg_tree(v) * ctx->scale;
      y = y > ctx->lo ? y : ctx->lo;
      o[c] = y < ctx->hi ? y : ctx->hi;
    }
  }
}

LBE_TARGET_AVX512 static void avg_row_avx512(const avg_ctx *ctx, int32_t b, int32_t oy) {
  const lbe_pool2d_params *p = &ctx->p;
  const int32_t ch = p->channels;
  const __m512 scale = _mm512_set1_ps(ctx->scale), lo = _mm512_set1_ps(ctx->lo), hi = _mm512_set1_ps(ctx->hi);
  for (int32_t ox = 0; ox < p->out_w; ++ox) {
    const float *taps[9];
    int32_t t = 0;
    for (int32_t kx = 0; kx < p->filter_w; ++kx)
      for (int32_t ky = 0; ky < p->filter_h; ++ky)
        taps[t++] = ctx->in + (((size_t)b * p->in_h + oy * p->stride_h + ky) * p->in_w + ox * p->stride_w + kx) * ch;
    float *o = ctx->out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * ch;
    for (int32_t c = 0; c < ch; c += 16) {
      const __mmask16 k = ch - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (ch - c)) - 1u);
      __m512 v[9];
      for (int32_t i = 0; i < 9; ++i) v[i] = i < t ? _mm512_maskz_loadu_ps(k, taps[i] + c) : _mm512_setzero_ps();
      const __m512 s01 = _mm512_add_ps(v[0], v[1]), s23 = _mm512_add_ps(v[2], v[3]);
      const __m512 s45 = _mm512_add_ps(v[4], v[5]), s67 = _mm512_add_ps(v[6], v[7]);
      const __m512 sum = _mm512_add_ps(_mm512_add_ps(s23, s45), _mm512_add_ps(_mm512_add_ps(s01, v[8]), s67));
      _mm512_mask_storeu_ps(o + c, k, _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(sum, scale), lo), hi));
    }
  }
}

static void avg_rows(void *ctx_, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const avg_ctx *ctx = ctx_;
  for (int64_t row = begin; row < end; ++row) {
    const int32_t b = (int32_t)(row / ctx->p.out_h), oy = (int32_t)(row % ctx->p.out_h);
    if (ctx->level >= LBE_AVX512)
      avg_row_avx512(ctx, b, oy);
    else if (ctx->level == LBE_AVX2)
      avg_row_avx2(ctx, b, oy);
    else
      avg_row_portable(ctx, b, oy);
  }
}

int lbe_avgpool2d_f32(const float *in, float *out, const lbe_pool2d_params *p, int level, lbe_pool *pool) {
  if (!in || !out || !p || !lbe_level_supported(level) || p->activation < 0 || p->activation > 3) return -1;
  const int32_t dims[] = {p->batch, p->in_h, p->in_w, p->channels, p->out_h, p->out_w,
                          p->filter_h, p->filter_w, p->stride_h, p->stride_w};
  for (size_t i = 0; i < sizeof dims / sizeof dims[0]; ++i)
    if (dims[i] < 1) return -1;
  /* XNNPACK's one-pass kernel: at most 9 pixels, every window inside the input */
  if (p->pad_top || p->pad_left || p->filter_h * p->filter_w > 9 ||
      (p->out_h - 1) * p->stride_h + p->filter_h > p->in_h || (p->out_w - 1) * p->stride_w + p->filter_w > p->in_w)
    return -1;
  avg_ctx ctx = {in, out, *p, level, 1.0f / (float)(p->filter_h * p->filter_w), -__builtin_inff(), __builtin_inff()};
  if (p->activation == 1) ctx.lo = 0.0f;
  if (p->activation == 2) ctx.lo = -1.0f, ctx.hi = 1.0f;
  if (p->activation == 3) ctx.lo = 0.0f, ctx.hi = 6.0f;
  lbe_pool_run(pool, avg_rows, &ctx, (int64_t)p->batch * p->out_h);
  return 0;
}
