/* AVX2 accumulators: 8 output channels per vector, pshufb nibble popcount into byte counters
 * that are widened to int32 every 31 words (31 * 8 < 256), 4 output pixels per filter load.
 * Filter and input are split into nibbles beforehand: XOR commutes with the split, so each
 * step is two XORs and two lookups. */
#include <immintrin.h>
#include <stdlib.h>
#include "lbe_internal.h"

#define TILE 4

LBE_TARGET_AVX2 static inline __m256i widen(__m256i bytes, __m256i ones8, __m256i ones16) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(bytes, ones8), ones16);
}

/* One step for one pixel: byte counts of popcount(filter ^ input word), nibble by nibble. */
#define STEP(B, IN)                                                                                      \
  B = _mm256_add_epi8(B, _mm256_add_epi8(                                                                \
                             _mm256_shuffle_epi8(lut, _mm256_xor_si256(flo, _mm256_set1_epi32((IN)[2 * k]))), \
                             _mm256_shuffle_epi8(lut, _mm256_xor_si256(fhi, _mm256_set1_epi32((IN)[2 * k + 1])))))
#define FLUSH(A, B) A = _mm256_add_epi32(A, widen(B, ones8, ones16)), B = _mm256_setzero_si256()

/* cols holds `stride` words per tap, the group's words_group of them from `offset` on. */
LBE_TARGET_AVX2 static void row_avx2(const struct lbe_bconv2d *c, const int32_t *cols, int32_t npix, int32_t group,
                                     int32_t *acc, int32_t stride, int32_t offset) {
  const int32_t cout = c->p.channels_out, out_w = npix, wg = c->words_group, kw = c->taps * wg;
  const int32_t per_group = c->blocks / c->p.groups;
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                       2, 3, 2, 3, 3, 4);
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  /* The input split into nibbles once per call, shared by every block. */
  const size_t n = (size_t)npix * kw;
  int32_t *split = malloc(sizeof(int32_t) * 2 * (n ? n : 1));
  if (!split) abort(); /* out of memory */
  int32_t *to = split;
  for (size_t tap = 0; tap < (size_t)npix * c->taps; ++tap) {
    const int32_t *from = cols + tap * (size_t)stride + (size_t)offset;
    for (int32_t w = 0; w < wg; ++w, to += 2) {
      const uint32_t x = (uint32_t)from[w];
      to[0] = (int32_t)(x & 0x0f0f0f0fu);
      to[1] = (int32_t)((x >> 4) & 0x0f0f0f0fu);
    }
  }
  for (int32_t blk = group * per_group; blk < (group + 1) * per_group; ++blk) {
    const int32_t *fb = c->packed + (size_t)blk * kw * 16, oc0 = c->block_oc0[blk], nl = c->block_n[blk];
    int32_t lane_mask[8];
    for (int l = 0; l < 8; ++l) lane_mask[l] = l < nl ? -1 : 0;
    const __m256i mask = _mm256_loadu_si256((const __m256i *)lane_mask);
    for (int32_t ox = 0; ox < out_w; ox += TILE) {
      const int32_t np = out_w - ox < TILE ? out_w - ox : TILE;
      /* Missing pixels of the last tile repeat pixel ox; their results are not stored. */
      const int32_t x1 = np > 1 ? ox + 1 : ox, x2 = np > 2 ? ox + 2 : ox, x3 = np > 3 ? ox + 3 : ox;
      const int32_t *i0 = split + (size_t)ox * kw * 2, *i1 = split + (size_t)x1 * kw * 2;
      const int32_t *i2 = split + (size_t)x2 * kw * 2, *i3 = split + (size_t)x3 * kw * 2;
      __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      for (int32_t k0 = 0; k0 < kw; k0 += 31) {
        const int32_t k1 = k0 + 31 < kw ? k0 + 31 : kw; /* 31 steps of at most 8 per byte fit in a byte */
        for (int32_t k = k0; k < k1; ++k) {
          const __m256i flo = _mm256_load_si256((const __m256i *)(fb + (size_t)k * 16));
          const __m256i fhi = _mm256_load_si256((const __m256i *)(fb + (size_t)k * 16 + 8));
          STEP(b0, i0);
          STEP(b1, i1);
          STEP(b2, i2);
          STEP(b3, i3);
        }
        FLUSH(a0, b0);
        FLUSH(a1, b1);
        FLUSH(a2, b2);
        FLUSH(a3, b3);
      }
      _mm256_maskstore_epi32(acc + (size_t)ox * cout + oc0, mask, a0);
      if (np > 1) _mm256_maskstore_epi32(acc + (size_t)x1 * cout + oc0, mask, a1);
      if (np > 2) _mm256_maskstore_epi32(acc + (size_t)x2 * cout + oc0, mask, a2);
      if (np > 3) _mm256_maskstore_epi32(acc + (size_t)x3 * cout + oc0, mask, a3);
    }
  }
  free(split);
}

LBE_TARGET_AVX2 void lbe_row_avx2(const struct lbe_bconv2d *c, const int32_t *cols, int32_t npix, int32_t group,
                                  int32_t *acc) {
  row_avx2(c, cols, npix, group, acc, c->words_group, 0);
}

/* Group `group` of taps gathered with every group's words (words_in per tap), as bconv2d_gather.c does. */
LBE_TARGET_AVX2 void lbe_row_avx2_grouped(const struct lbe_bconv2d *c, const int32_t *cols, int32_t npix,
                                          int32_t group, int32_t *acc) {
  row_avx2(c, cols, npix, group, acc, c->words_in, group * c->words_group);
}

LBE_TARGET_AVX2 void lbe_quantize_avx2(const float *in, int32_t *out, int64_t pixels, int32_t channels) {
  const int32_t words = (channels + 31) / 32;
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t px = 0; px < pixels; ++px) {
    const float *x = in + px * channels;
    uint32_t *o = (uint32_t *)out + px * words;
    for (int32_t w = 0; w < words; ++w) {
      uint32_t bits = 0;
      const int32_t c0 = w * 32;
      if (channels - c0 >= 32) {
        for (int q = 0; q < 4; ++q)
          bits |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + c0 + q * 8), zero, _CMP_LT_OQ))
                  << (q * 8);
      } else {
        for (int32_t i = c0; i < channels; ++i) bits |= (uint32_t)(x[i] < 0.0f) << (i - c0);
      }
      o[w] = bits;
    }
  }
}

/* The output transform of one row, 8 channels per step; channels past the last full 8 go to the
 * portable transform. Same float operations as the portable one. */
LBE_TARGET_AVX2 void lbe_transform_avx2(const struct lbe_bconv2d *c, const int32_t *acc, int32_t npix, void *out_row) {
  const int32_t cout = c->p.channels_out, out_w = npix, full = cout / 8 * 8;
  if (c->p.output == LBE_OUT_BITPACKED) {
    const int32_t words = (cout + 31) / 32;
    uint32_t *out = out_row;
    for (int32_t ox = 0; ox < out_w; ++ox)
      for (int32_t w = 0; w < words; ++w) {
        uint32_t bits = 0;
        for (int32_t oc = w * 32; oc < cout && oc < w * 32 + 32; oc += 8) {
          if (oc + 8 <= cout) {
            const __m256i a = _mm256_loadu_si256((const __m256i *)(acc + (size_t)ox * cout + oc));
            const __m256i t = _mm256_loadu_si256((const __m256i *)(c->thresholds + oc));
            bits |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(a, t))) << (oc - w * 32);
          } else {
            for (int32_t i = oc; i < cout; ++i)
              bits |= (uint32_t)(acc[(size_t)ox * cout + i] > c->thresholds[i]) << (i - w * 32);
          }
        }
        out[(size_t)ox * words + w] = bits;
      }
    return;
  }
  const __m256i lo = _mm256_set1_epi32(c->clamp_min), hi = _mm256_set1_epi32(c->clamp_max);
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
  const __m256 qmin = _mm256_set1_ps(-128.0f), qmax = _mm256_set1_ps(127.0f);
  for (int32_t ox = 0; ox < out_w; ++ox) {
    for (int32_t oc = 0; oc < full; oc += 8) {
      const size_t at = (size_t)ox * cout + oc;
      __m256i x = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(acc + at)), 1);
      x = _mm256_min_epi32(_mm256_max_epi32(x, lo), hi);
      const __m256 y = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(x), _mm256_loadu_ps(c->mul + oc)),
                                     _mm256_loadu_ps(c->bias + oc));
      if (c->p.output == LBE_OUT_FLOAT) {
        _mm256_storeu_ps((float *)out_row + at, y);
      } else {
        __m256 r = _mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(y, r));
        const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), _mm256_or_ps(one, _mm256_and_ps(y, sign)));
        r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(r, step), qmin), qmax);
        const __m256i i32 = _mm256_cvtps_epi32(r);
        const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
        _mm_storel_epi64((__m128i *)((int8_t *)out_row + at), _mm_packs_epi16(i16, i16));
      }
    }
    lbe_transform_tail(c, acc + (size_t)ox * cout, out_row, ox, full);
  }
}
