/* AVX-512 VPOPCNTDQ accumulators: 16 output channels per vector, 8 output pixels share each filter load. */
#include <immintrin.h>
#include "lbe_internal.h"

#define STEP(A, IN) A = _mm512_add_epi32(A, _mm512_popcnt_epi32(_mm512_xor_si512(fv, _mm512_set1_epi32((IN)[k]))))
/* Eight pixels' steps: accumulators a0..a7 against inputs P0..P7. */
#define STEP8(P)  \
  STEP(a0, P##0); \
  STEP(a1, P##1); \
  STEP(a2, P##2); \
  STEP(a3, P##3); \
  STEP(a4, P##4); \
  STEP(a5, P##5); \
  STEP(a6, P##6); \
  STEP(a7, P##7)

/* The gathered path (and the peak microbenchmark): each pixel's taps of group g are one run of
 * taps * words_group words, pixel i's at cols + i * run. */
LBE_TARGET_AVX512 void lbe_row_avx512(const struct lbe_bconv2d *c, const int32_t *cols, int32_t npix, int32_t group,
                                      int32_t *acc) {
  const int32_t run = c->taps * c->words_group;
  for (int32_t p0 = 0; p0 < npix; p0 += 64) { /* pointers for up to 64 pixels at a time */
    const int32_t *starts[64];
    const int32_t n = npix - p0 < 64 ? npix - p0 : 64;
    for (int32_t i = 0; i < n; ++i) starts[i] = cols + (size_t)(p0 + i) * run;
    lbe_pixels_avx512(c, starts, 1, 0, run, n, group, acc + (size_t)p0 * c->p.channels_out);
  }
}

/* x < 0 -> bit 1 (so -0.0 and NaN -> 0), 16 channels per compare; unused bits 0. */
LBE_TARGET_AVX512 void lbe_quantize_avx512(const float *in, int32_t *out, int64_t pixels, int32_t channels) {
  const int32_t words = (channels + 31) / 32;
  const __m512 zero = _mm512_setzero_ps();
  if (channels % 32 == 0) { /* no padding bits: the output is the flat input's bits, 16 per compare */
    uint16_t *o = (uint16_t *)out;
    const int64_t n = pixels * channels / 16;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      o[i] = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(in + 16 * i), zero, _CMP_LT_OQ);
      o[i + 1] = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(in + 16 * (i + 1)), zero, _CMP_LT_OQ);
      o[i + 2] = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(in + 16 * (i + 2)), zero, _CMP_LT_OQ);
      o[i + 3] = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(in + 16 * (i + 3)), zero, _CMP_LT_OQ);
    }
    for (; i < n; ++i) o[i] = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(in + 16 * i), zero, _CMP_LT_OQ);
    return;
  }
  for (int64_t px = 0; px < pixels; ++px) {
    const float *x = in + px * channels;
    uint32_t *o = (uint32_t *)out + px * words;
    for (int32_t w = 0; w < words; ++w) {
      uint32_t bits = 0;
      for (int32_t half = 0; half < 2; ++half) {
        const int32_t c0 = w * 32 + half * 16, n = channels - c0;
        if (n <= 0) break;
        const __mmask16 m = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + c0);
        bits |= (uint32_t)_mm512_mask_cmp_ps_mask(m, v, zero, _CMP_LT_OQ) << (half * 16);
      }
      o[w] = bits;
    }
  }
}

/* The float output transform's constants: the clamp on 2 * acc (skipped when it cannot bind: 2 * acc lies
 * in [0, 2 * k] and there is no activation) and the fused ADD's activation bounds. */
typedef struct {
  __m512i lo, hi;
  __m512 add_lo, add_hi;
  int clamp;
} finish_consts;

LBE_TARGET_AVX512 static inline finish_consts finish_setup(const struct lbe_bconv2d *c, int add_activation) {
  finish_consts k;
  k.lo = _mm512_set1_epi32(c->clamp_min), k.hi = _mm512_set1_epi32(c->clamp_max);
  k.clamp = c->clamp_min > 0 || c->clamp_max < 2 * c->taps * (c->p.channels_in / c->p.groups);
  float add_lo, add_hi;
  lbe_activation_bounds(add_activation, &add_lo, &add_hi);
  k.add_lo = _mm512_set1_ps(add_lo), k.add_hi = _mm512_set1_ps(add_hi);
  return k;
}

/* The output transform of npix pixels, 16 channels per step (same float operations as the portable one);
 * a residual (float output only) is added and the ADD's activation applied in the same pass, the same IEEE
 * operations as lbe_add_act_f32 after it. */
LBE_TARGET_AVX512 void lbe_transform_avx512(const struct lbe_bconv2d *c, const int32_t *acc, int32_t npix, void *out_row,
                                            const float *residual, int add_activation) {
  const int32_t cout = c->p.channels_out, out_w = npix;
  if (c->p.output == LBE_OUT_BITPACKED) {
    const int32_t words = (cout + 31) / 32;
    uint32_t *out = out_row;
    for (int32_t ox = 0; ox < out_w; ++ox)
      for (int32_t w = 0; w < words; ++w) {
        uint32_t bits = 0;
        for (int32_t half = 0; half < 2; ++half) {
          const int32_t oc = w * 32 + half * 16, n = cout - oc;
          if (n <= 0) break;
          const __mmask16 m = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
          const __m512i a = _mm512_maskz_loadu_epi32(m, acc + (size_t)ox * cout + oc);
          const __m512i t = _mm512_maskz_loadu_epi32(m, c->thresholds + oc);
          bits |= (uint32_t)_mm512_mask_cmpgt_epi32_mask(m, a, t) << (half * 16);
        }
        out[(size_t)ox * words + w] = bits;
      }
    return;
  }
  const finish_consts k = finish_setup(c, add_activation);
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  const __m512 qmin = _mm512_set1_ps(-128.0f), qmax = _mm512_set1_ps(127.0f);
  for (int32_t ox = 0; ox < out_w; ++ox)
    for (int32_t oc = 0; oc < cout; oc += 16) {
      const int32_t n = cout - oc;
      const __mmask16 m = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
      const size_t at = (size_t)ox * cout + oc;
      __m512i x = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(m, acc + at), 1);
      if (k.clamp) x = _mm512_min_epi32(_mm512_max_epi32(x, k.lo), k.hi);
      __m512 y = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(x), _mm512_maskz_loadu_ps(m, c->mul + oc)),
                               _mm512_maskz_loadu_ps(m, c->bias + oc));
      if (residual) {
        y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, residual + at));
        /* max(lo, y) is y < lo ? lo : y and min(hi, .) is . > hi ? hi : . (NaN and -0.0 kept), as the scalar ADD */
        if (add_activation) y = _mm512_min_ps(k.add_hi, _mm512_max_ps(k.add_lo, y));
      }
      if (c->p.output == LBE_OUT_FLOAT) {
        _mm512_mask_storeu_ps((float *)out_row + at, m, y);
      } else {
        /* Round half away from zero exactly: truncate, then step away if the dropped part is >= 0.5. */
        __m512 r = _mm512_roundscale_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(y, r));
        const __mmask16 away = _mm512_cmp_ps_mask(frac, half, _CMP_GE_OQ);
        const __m512i sign = _mm512_and_epi32(_mm512_castps_si512(y), _mm512_set1_epi32(INT32_MIN));
        r = _mm512_mask_add_ps(r, away, r, _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(one), sign)));
        r = _mm512_min_ps(_mm512_max_ps(r, qmin), qmax);
        _mm_mask_storeu_epi8((int8_t *)out_row + at, m, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(r)));
      }
    }
}

/* Block blk's 16 channels of pixels p0.. (pointers offset to the block's first channel, fields hoisted). */
typedef struct {
  float *out;
  const float *residual;
  const float *alpha; /* non-NULL: apply PRELU with alpha_v */
  uint16_t *bits;
  const int32_t *const *fix;
  int32_t oc0, cout, halves, clear_next; /* clear_next: also zero the half-word after (the last word's unused half) */
  __mmask16 mask;
  __m512 mul, bias, alpha_v;
} finish_block;

/* One pixel's 16 channels from its accumulators: lbe_transform_avx512's float operations (then LceQuantize's
 * compare for the fused bits), straight from the register. */
LBE_TARGET_AVX512 static inline __attribute__((always_inline)) void finish_pixel(const finish_block *f,
                                                                                 const finish_consts *k,
                                                                                 int add_activation, int64_t i,
                                                                                 __m512i a) {
  const size_t at = (size_t)i * f->cout;
  if (f->fix && f->fix[i]) a = _mm512_add_epi32(a, _mm512_maskz_loadu_epi32(f->mask, f->fix[i] + f->oc0));
  __m512i x = _mm512_slli_epi32(a, 1);
  if (k->clamp) x = _mm512_min_epi32(_mm512_max_epi32(x, k->lo), k->hi);
  __m512 y = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(x), f->mul), f->bias);
  if (f->residual) {
    y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(f->mask, f->residual + at));
    if (add_activation) y = _mm512_min_ps(k->add_hi, _mm512_max_ps(k->add_lo, y));
    if (f->alpha) { /* PRELU: y >= 0 ? y : y * alpha (a NaN fails the ordered test) */
      const __mmask16 keep = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GE_OQ);
      y = _mm512_mask_blend_ps(keep, _mm512_mul_ps(y, f->alpha_v), y);
    }
  }
  _mm512_mask_storeu_ps(f->out + at, f->mask, y);
  if (f->bits) {
    uint16_t *b = f->bits + (size_t)i * f->halves;
    b[0] = (uint16_t)_mm512_mask_cmp_ps_mask(f->mask, y, _mm512_setzero_ps(), _CMP_LT_OQ);
    if (f->clear_next) b[1] = 0;
  }
}

/* Accumulators of group g's channels for npix output pixels given by pointers to their first tap: pixel
 * i's words are segs runs of seg_len words starting at pixels[i] + s * seg_stride. Eight pixels share each filter
 * load; a last group of fewer repeats its last pixel and stores only its own. The eight pointers are set
 * once per group and kept across every channel block (set per block they cost ~20% at 64 channels).
 * With an epilogue (float output, groups == 1) each block's accumulators go through the output transform in
 * registers instead of to acc. */
LBE_TARGET_AVX512 static inline __attribute__((always_inline)) void pixels_impl(
    const struct lbe_bconv2d *c, const int32_t *const *pixels, int32_t segs, int64_t seg_stride, int32_t seg_len,
    int32_t npix, int32_t blk_begin, int32_t blk_end, int32_t *acc, const lbe_epilogue *e) {
  const int32_t cout = c->p.channels_out, kw = c->taps * c->words_group;
  finish_consts k;
  if (e) k = finish_setup(c, e->add_activation);
  for (int32_t p0 = 0; p0 < npix; p0 += 8) {
    const int32_t n = npix - p0 < 8 ? npix - p0 : 8;
    const int32_t *const *px = pixels + p0;
    const int32_t *b0 = px[0], *b1 = px[1 < n ? 1 : n - 1], *b2 = px[2 < n ? 2 : n - 1];
    const int32_t *b3 = px[3 < n ? 3 : n - 1], *b4 = px[4 < n ? 4 : n - 1], *b5 = px[5 < n ? 5 : n - 1];
    const int32_t *b6 = px[6 < n ? 6 : n - 1], *b7 = px[7 < n ? 7 : n - 1];
    int32_t *o = e ? NULL : acc + (size_t)p0 * cout;
    for (int32_t blk = blk_begin; blk < blk_end; ++blk) {
      const int32_t *fb = c->packed + (size_t)blk * kw * 16;
      __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      for (int32_t s = 0; s < segs; ++s) {
        /* k indexes the eight base pointers directly: eight derived pointers would not fit in registers */
        const int32_t *f = fb + (size_t)s * seg_len * 16 - s * seg_stride * 16;
        for (int64_t k = s * seg_stride, end = k + seg_len; k < end; ++k) {
          const __m512i fv = _mm512_load_si512((const void *)(f + k * 16));
          STEP8(b);
        }
      }
      const __mmask16 mask = (__mmask16)((1u << c->block_n[blk]) - 1u);
      if (e) {
        const int32_t oc0 = c->block_oc0[blk], halves = 2 * ((cout + 31) / 32), half = oc0 / 16;
        const finish_block f = {e->out + (size_t)p0 * cout + oc0,
                                e->residual ? e->residual + (size_t)p0 * cout + oc0 : NULL,
                                e->residual ? e->alpha : NULL,
                                e->bits ? e->bits + (size_t)p0 * halves + half : NULL,
                                e->fix ? e->fix + p0 : NULL,
                                oc0,
                                cout,
                                halves,
                                half % 2 == 0 && half + 1 < halves && oc0 + 16 >= cout,
                                mask,
                                _mm512_maskz_loadu_ps(mask, c->mul + oc0),
                                _mm512_maskz_loadu_ps(mask, c->bias + oc0),
                                e->alpha ? _mm512_maskz_loadu_ps(mask, e->alpha + oc0) : _mm512_setzero_ps()};
        if (n == 8) {
          finish_pixel(&f, &k, e->add_activation, 0, a0);
          finish_pixel(&f, &k, e->add_activation, 1, a1);
          finish_pixel(&f, &k, e->add_activation, 2, a2);
          finish_pixel(&f, &k, e->add_activation, 3, a3);
          finish_pixel(&f, &k, e->add_activation, 4, a4);
          finish_pixel(&f, &k, e->add_activation, 5, a5);
          finish_pixel(&f, &k, e->add_activation, 6, a6);
          finish_pixel(&f, &k, e->add_activation, 7, a7);
        } else {
          const __m512i a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
          for (int32_t i = 0; i < n; ++i) finish_pixel(&f, &k, e->add_activation, i, a[i]);
        }
        continue;
      }
      int32_t *ob = o + c->block_oc0[blk];
      if (n == 8) {
        _mm512_mask_storeu_epi32(ob, mask, a0);
        _mm512_mask_storeu_epi32(ob + cout, mask, a1);
        _mm512_mask_storeu_epi32(ob + 2 * (size_t)cout, mask, a2);
        _mm512_mask_storeu_epi32(ob + 3 * (size_t)cout, mask, a3);
        _mm512_mask_storeu_epi32(ob + 4 * (size_t)cout, mask, a4);
        _mm512_mask_storeu_epi32(ob + 5 * (size_t)cout, mask, a5);
        _mm512_mask_storeu_epi32(ob + 6 * (size_t)cout, mask, a6);
        _mm512_mask_storeu_epi32(ob + 7 * (size_t)cout, mask, a7);
      } else {
        const __m512i a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
        for (int32_t i = 0; i < n; ++i) _mm512_mask_storeu_epi32(ob + (size_t)i * cout, mask, a[i]);
      }
    }
  }
}

LBE_TARGET_AVX512 void lbe_pixels_avx512(const struct lbe_bconv2d *c, const int32_t *const *pixels, int32_t segs,
                                         int64_t seg_stride, int32_t seg_len, int32_t npix, int32_t group,
                                         int32_t *acc) {
  const int32_t per_group = c->blocks / c->p.groups;
  pixels_impl(c, pixels, segs, seg_stride, seg_len, npix, group * per_group, (group + 1) * per_group, acc, NULL);
}

LBE_TARGET_AVX512 void lbe_pixels_blocks_avx512(const struct lbe_bconv2d *c, const int32_t *const *pixels,
                                                int32_t segs, int64_t seg_stride, int32_t seg_len, int32_t npix,
                                                int32_t blk_begin, int32_t blk_end, int32_t *acc) {
  pixels_impl(c, pixels, segs, seg_stride, seg_len, npix, blk_begin, blk_end, acc, NULL);
}

LBE_TARGET_AVX512 void lbe_pixels_finish_avx512(const struct lbe_bconv2d *c, const int32_t *const *pixels,
                                                int32_t segs, int64_t seg_stride, int32_t seg_len, int32_t npix,
                                                int32_t blk_begin, int32_t blk_end, const lbe_epilogue *e) {
  pixels_impl(c, pixels, segs, seg_stride, seg_len, npix, blk_begin, blk_end, NULL, e);
}
