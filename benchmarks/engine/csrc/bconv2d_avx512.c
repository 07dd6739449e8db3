/* AVX-512 VPOPCNTDQ accumulators: 16 output channels per vector, 4 output pixels share each filter load. */
#include <immintrin.h>
#include "lbe_internal.h"

#define TILE 4

LBE_TARGET_AVX512 void lbe_row_avx512(const struct lbe_bconv2d *c, const int32_t *const *ptrs, int32_t *acc) {
  const int32_t taps = c->taps, wg = c->words_group, cout = c->p.channels_out, out_w = c->p.out_w;
  const size_t block_words = (size_t)taps * wg * 16;
  for (int32_t blk = 0; blk < c->blocks; ++blk) {
    const int32_t *fb = c->packed + blk * block_words;
    const int32_t goff = c->block_group[blk] * wg, oc0 = c->block_oc0[blk];
    const __mmask16 mask = (__mmask16)((1u << c->block_n[blk]) - 1u);
    int32_t ox = 0;
    for (; ox + TILE <= out_w; ox += TILE) {
      __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
      const int32_t *const *pp = ptrs + (size_t)ox * taps;
      for (int32_t t = 0; t < taps; ++t) {
        const int32_t *i0 = pp[t] + goff, *i1 = pp[taps + t] + goff;
        const int32_t *i2 = pp[2 * taps + t] + goff, *i3 = pp[3 * taps + t] + goff;
        const int32_t *f = fb + (size_t)t * wg * 16;
        for (int32_t w = 0; w < wg; ++w) {
          const __m512i fv = _mm512_load_si512((const void *)(f + w * 16));
          a0 = _mm512_add_epi32(a0, _mm512_popcnt_epi32(_mm512_xor_si512(fv, _mm512_set1_epi32(i0[w]))));
          a1 = _mm512_add_epi32(a1, _mm512_popcnt_epi32(_mm512_xor_si512(fv, _mm512_set1_epi32(i1[w]))));
          a2 = _mm512_add_epi32(a2, _mm512_popcnt_epi32(_mm512_xor_si512(fv, _mm512_set1_epi32(i2[w]))));
          a3 = _mm512_add_epi32(a3, _mm512_popcnt_epi32(_mm512_xor_si512(fv, _mm512_set1_epi32(i3[w]))));
        }
      }
      _mm512_mask_storeu_epi32(acc + (size_t)ox * cout + oc0, mask, a0);
      _mm512_mask_storeu_epi32(acc + (size_t)(ox + 1) * cout + oc0, mask, a1);
      _mm512_mask_storeu_epi32(acc + (size_t)(ox + 2) * cout + oc0, mask, a2);
      _mm512_mask_storeu_epi32(acc + (size_t)(ox + 3) * cout + oc0, mask, a3);
    }
    for (; ox < out_w; ++ox) {
      __m512i a0 = _mm512_setzero_si512();
      for (int32_t t = 0; t < taps; ++t) {
        const int32_t *i0 = ptrs[(size_t)ox * taps + t] + goff;
        const int32_t *f = fb + (size_t)t * wg * 16;
        for (int32_t w = 0; w < wg; ++w) {
          const __m512i fv = _mm512_load_si512((const void *)(f + w * 16));
          a0 = _mm512_add_epi32(a0, _mm512_popcnt_epi32(_mm512_xor_si512(fv, _mm512_set1_epi32(i0[w]))));
        }
      }
      _mm512_mask_storeu_epi32(acc + (size_t)ox * cout + oc0, mask, a0);
    }
  }
}

/* x < 0 -> bit 1 (so -0.0 and NaN -> 0), 16 channels per compare; unused bits 0. */
LBE_TARGET_AVX512 void lbe_quantize_avx512(const float *in, int32_t *out, int64_t pixels, int32_t channels) {
  const int32_t words = (channels + 31) / 32;
  const __m512 zero = _mm512_setzero_ps();
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
