/* Float pooling. MAX_POOL_2D as TFLite's reference kernel computes it: per channel, m = lowest float, then
 * m = m < x ? x : m over the window's in-bounds pixels in row-major order, then the fused activation
 * min(max(m, lo), hi). vmaxps(x, m) and the clamps are those same selects, so every level gives the
 * reference's bits (NaN inputs and signed zeros included). Output rows are split across the pool. */
#include <float.h>
#include <immintrin.h>
#include "lbe_internal.h"

typedef struct pool_ctx pool_ctx;
typedef void (*row_fn)(const pool_ctx *ctx, int32_t b, int32_t oy);
struct pool_ctx {
  const float *in;
  float *out;
  lbe_pool2d_params p;
  row_fn row; /* the op's kernel at the chosen level */
  float lo, hi, scale;
};

static inline const float *pixel(const pool_ctx *ctx, int32_t b, int32_t y, int32_t x) {
  const lbe_pool2d_params *p = &ctx->p;
  return ctx->in + (((size_t)b * p->in_h + y) * p->in_w + x) * p->channels;
}

static inline float *out_pixel(const pool_ctx *ctx, int32_t b, int32_t oy, int32_t ox) {
  const lbe_pool2d_params *p = &ctx->p;
  return ctx->out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->channels;
}

/* ---- MAX_POOL_2D ---- */

/* The window of output pixel (oy, ox) clipped to the input: rows [y0, y1), columns [x0, x1). */
static void window(const lbe_pool2d_params *p, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1, int32_t *x0,
                   int32_t *x1) {
  const int32_t iy = oy * p->stride_h - p->pad_top, ix = ox * p->stride_w - p->pad_left;
  *y0 = iy < 0 ? 0 : iy;
  *y1 = iy + p->filter_h < p->in_h ? iy + p->filter_h : p->in_h;
  *x0 = ix < 0 ? 0 : ix;
  *x1 = ix + p->filter_w < p->in_w ? ix + p->filter_w : p->in_w;
}

/* Channel c of one window, as the reference: std::max in row-major order, then min(max(m, lo), hi). */
static inline float max_one(const pool_ctx *ctx, int32_t b, int32_t y0, int32_t y1, int32_t x0, int32_t x1,
                            int32_t c) {
  float m = -FLT_MAX;
  for (int32_t y = y0; y < y1; ++y)
    for (int32_t x = x0; x < x1; ++x) {
      const float v = pixel(ctx, b, y, x)[c];
      m = m < v ? v : m;
    }
  m = m < ctx->lo ? ctx->lo : m;
  return ctx->hi < m ? ctx->hi : m;
}

static void max_row_portable(const pool_ctx *ctx, int32_t b, int32_t oy) {
  for (int32_t ox = 0; ox < ctx->p.out_w; ++ox) {
    int32_t y0, y1, x0, x1;
    window(&ctx->p, oy, ox, &y0, &y1, &x0, &x1);
    float *o = out_pixel(ctx, b, oy, ox);
    for (int32_t c = 0; c < ctx->p.channels; ++c) o[c] = max_one(ctx, b, y0, y1, x0, x1, c);
  }
}

LBE_TARGET_AVX2 static void max_row_avx2(const pool_ctx *ctx, int32_t b, int32_t oy) {
  const int32_t ch = ctx->p.channels, full = ch / 8 * 8;
  const __m256 lowest = _mm256_set1_ps(-FLT_MAX), lo = _mm256_set1_ps(ctx->lo), hi = _mm256_set1_ps(ctx->hi);
  for (int32_t ox = 0; ox < ctx->p.out_w; ++ox) {
    int32_t y0, y1, x0, x1;
    window(&ctx->p, oy, ox, &y0, &y1, &x0, &x1);
    float *o = out_pixel(ctx, b, oy, ox);
    for (int32_t c = 0; c < full; c += 8) {
      __m256 m = lowest;
      for (int32_t y = y0; y < y1; ++y)
        for (int32_t x = x0; x < x1; ++x) m = _mm256_max_ps(_mm256_loadu_ps(pixel(ctx, b, y, x) + c), m);
      _mm256_storeu_ps(o + c, _mm256_min_ps(hi, _mm256_max_ps(lo, m)));
    }
    for (int32_t c = full; c < ch; ++c) o[c] = max_one(ctx, b, y0, y1, x0, x1, c);
  }
}

LBE_TARGET_AVX512 static void max_row_avx512(const pool_ctx *ctx, int32_t b, int32_t oy) {
  const int32_t ch = ctx->p.channels;
  const __m512 lowest = _mm512_set1_ps(-FLT_MAX), lo = _mm512_set1_ps(ctx->lo), hi = _mm512_set1_ps(ctx->hi);
  for (int32_t ox = 0; ox < ctx->p.out_w; ++ox) {
    int32_t y0, y1, x0, x1;
    window(&ctx->p, oy, ox, &y0, &y1, &x0, &x1);
    float *o = out_pixel(ctx, b, oy, ox);
    for (int32_t c = 0; c < ch; c += 16) {
      const __mmask16 k = ch - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (ch - c)) - 1u);
      __m512 m = lowest;
      for (int32_t y = y0; y < y1; ++y)
        for (int32_t x = x0; x < x1; ++x) m = _mm512_max_ps(_mm512_maskz_loadu_ps(k, pixel(ctx, b, y, x) + c), m);
      _mm512_mask_storeu_ps(o + c, k, _mm512_min_ps(hi, _mm512_max_ps(lo, m)));
    }
  }
}

/* ---- AVERAGE_POOL_2D ----
 * For windows of at most 9 pixels that never leave the input, with XNNPACK's arithmetic (tflite-runtime's
 * path for it), so outputs are the same bits: the window's pixels in column-major order are i0..i8 (missing
 * ones +0.0), summed as ((i2+i3)+(i4+i5)) + (((i0+i1)+i8)+(i6+i7)), times 1/(pool size), then max(y, lo) and
 * min(y, hi) with y first (a NaN becomes lo). */

/* The window's pixels of output pixel (oy, ox) in column-major order; returns how many. */
static inline int32_t avg_taps(const pool_ctx *ctx, int32_t b, int32_t oy, int32_t ox, const float **taps) {
  const lbe_pool2d_params *p = &ctx->p;
  int32_t t = 0;
  for (int32_t kx = 0; kx < p->filter_w; ++kx)
    for (int32_t ky = 0; ky < p->filter_h; ++ky) taps[t++] = pixel(ctx, b, oy * p->stride_h + ky, ox * p->stride_w + kx);
  return t;
}

static inline float avg_one(const pool_ctx *ctx, const float *const *taps, int32_t t, int32_t c) {
  float v[9] = {0};
  for (int32_t i = 0; i < t; ++i) v[i] = taps[i][c];
  const float s01 = v[0] + v[1], s23 = v[2] + v[3], s45 = v[4] + v[5], s67 = v[6] + v[7];
  float y = ((s23 + s45) + ((s01 + v[8]) + s67)) * ctx->scale;
  y = y > ctx->lo ? y : ctx->lo;
  return y < ctx->hi ? y : ctx->hi;
}

static void avg_row_portable(const pool_ctx *ctx, int32_t b, int32_t oy) {
  for (int32_t ox = 0; ox < ctx->p.out_w; ++ox) {
    const float *taps[9];
    const int32_t t = avg_taps(ctx, b, oy, ox, taps);
    float *o = out_pixel(ctx, b, oy, ox);
    for (int32_t c = 0; c < ctx->p.channels; ++c) o[c] = avg_one(ctx, taps, t, c);
  }
}

LBE_TARGET_AVX2 static void avg_row_avx2(const pool_ctx *ctx, int32_t b, int32_t oy) {
  const int32_t ch = ctx->p.channels, full = ch / 8 * 8;
  const __m256 scale = _mm256_set1_ps(ctx->scale), lo = _mm256_set1_ps(ctx->lo), hi = _mm256_set1_ps(ctx->hi);
  for (int32_t ox = 0; ox < ctx->p.out_w; ++ox) {
    const float *taps[9];
    const int32_t t = avg_taps(ctx, b, oy, ox, taps);
    float *o = out_pixel(ctx, b, oy, ox);
    for (int32_t c = 0; c < full; c += 8) {
      __m256 v[9];
      for (int32_t i = 0; i < 9; ++i) v[i] = i < t ? _mm256_loadu_ps(taps[i] + c) : _mm256_setzero_ps();
      const __m256 s01 = _mm256_add_ps(v[0], v[1]), s23 = _mm256_add_ps(v[2], v[3]);
      const __m256 s45 = _mm256_add_ps(v[4], v[5]), s67 = _mm256_add_ps(v[6], v[7]);
      const __m256 sum = _mm256_add_ps(_mm256_add_ps(s23, s45), _mm256_add_ps(_mm256_add_ps(s01, v[8]), s67));
      _mm256_storeu_ps(o + c, _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(sum, scale), lo), hi));
    }
    for (int32_t c = full; c < ch; ++c) o[c] = avg_one(ctx, taps, t, c);
  }
}

LBE_TARGET_AVX512 static void avg_row_avx512(const pool_ctx *ctx, int32_t b, int32_t oy) {
  const int32_t ch = ctx->p.channels;
  const __m512 scale = _mm512_set1_ps(ctx->scale), lo = _mm512_set1_ps(ctx->lo), hi = _mm512_set1_ps(ctx->hi);
  for (int32_t ox = 0; ox < ctx->p.out_w; ++ox) {
    const float *taps[9];
    const int32_t t = avg_taps(ctx, b, oy, ox, taps);
    float *o = out_pixel(ctx, b, oy, ox);
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

/* ---- both ---- */

static void run_rows(void *ctx_, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const pool_ctx *ctx = ctx_;
  for (int64_t row = begin; row < end; ++row) ctx->row(ctx, (int32_t)(row / ctx->p.out_h), (int32_t)(row % ctx->p.out_h));
}

/* Checks the arguments, then runs the level's kernel (rows[portable, avx2, avx512]) over the pool. */
static int run(const float *in, float *out, const lbe_pool2d_params *p, int level, lbe_pool *pool,
               const row_fn rows[3], float scale) {
  if (!in || !out || !p || !lbe_level_supported(level) || p->activation < 0 || p->activation > 3) return -1;
  const int32_t dims[] = {p->batch, p->in_h, p->in_w, p->channels, p->out_h, p->out_w,
                          p->filter_h, p->filter_w, p->stride_h, p->stride_w};
  for (size_t i = 0; i < sizeof dims / sizeof dims[0]; ++i)
    if (dims[i] < 1) return -1;
  if (p->pad_top < 0 || p->pad_left < 0) return -1;
  pool_ctx ctx = {in, out, *p, rows[level >= LBE_AVX512 ? 2 : level == LBE_AVX2 ? 1 : 0], 0.0f, 0.0f, scale};
  lbe_activation_bounds(p->activation, &ctx.lo, &ctx.hi); /* NONE: [-inf, inf], as XNNPACK's pools clamp */
  lbe_pool_run(pool, run_rows, &ctx, (int64_t)p->batch * p->out_h);
  return 0;
}

int lbe_maxpool2d_f32(const float *in, float *out, const lbe_pool2d_params *p, int level, lbe_pool *pool) {
  static const row_fn rows[3] = {max_row_portable, max_row_avx2, max_row_avx512};
  return run(in, out, p, level, pool, rows, 1.0f);
}

int lbe_avgpool2d_f32(const float *in, float *out, const lbe_pool2d_params *p, int level, lbe_pool *pool) {
  static const row_fn rows[3] = {avg_row_portable, avg_row_avx2, avg_row_avx512};
  /* XNNPACK's one-pass kernel: at most 9 pixels, every window inside the input */
  if (p && (p->pad_top || p->pad_left || p->filter_h * p->filter_w > 9 ||
            (p->out_h - 1) * p->stride_h + p->filter_h > p->in_h || (p->out_w - 1) * p->stride_w + p->filter_w > p->in_w))
    return -1;
  return run(in, out, p, level, pool, rows, p ? 1.0f / (float)(p->filter_h * p->filter_w) : 0.0f);
}
