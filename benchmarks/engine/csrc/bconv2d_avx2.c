/* AVX2 accumulators: 8 output channels per vector, pshufb nibble popcount into byte counters
 * that are widened to int32 every 31 words (31 * 8 < 256), 4 output pixels per filter load. */
#include <immintrin.h>
#include "lbe_internal.h"

#define TILE 4

LBE_TARGET_AVX2 static inline __m256i popcnt_bytes(__m256i v, __m256i lut, __m256i low) {
  const __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

LBE_TARGET_AVX2 static inline __m256i widen(__m256i bytes, __m256i ones8, __m256i ones16) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(bytes, ones8), ones16);
}

/* One step for one pixel: byte counts of popcount(filter ^ broadcast input word). */
#define STEP(B, IN) B = _mm256_add_epi8(B, popcnt_bytes(_mm256_xor_si256(fv, _mm256_set1_epi32((IN)[w])), lut, low))
#define FLUSH(A, B) A = _mm256_add_epi32(A, widen(B, ones8, ones16)), B = _mm256_setzero_si256()

LBE_TARGET_AVX2 void lbe_row_avx2(const struct lbe_bconv2d *c, const int32_t *const *ptrs, int32_t *acc) {
  const int32_t taps = c->taps, wg = c->words_group, cout = c->p.channels_out, out_w = c->p.out_w;
  const size_t block_words = (size_t)taps * wg * 8;
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                       2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f), ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int32_t blk = 0; blk < c->blocks; ++blk) {
    const int32_t *fb = c->packed + blk * block_words;
    const int32_t goff = c->block_group[blk] * wg, oc0 = c->block_oc0[blk], n = c->block_n[blk];
    int32_t lane_mask[8];
    for (int l = 0; l < 8; ++l) lane_mask[l] = l < n ? -1 : 0;
    const __m256i mask = _mm256_loadu_si256((const __m256i *)lane_mask);
    for (int32_t ox = 0; ox < out_w; ox += TILE) {
      const int32_t np = out_w - ox < TILE ? out_w - ox : TILE;
      /* Missing pixels of the last tile repeat pixel ox; their results are not stored. */
      const int32_t x1 = np > 1 ? ox + 1 : ox, x2 = np > 2 ? ox + 2 : ox, x3 = np > 3 ? ox + 3 : ox;
      __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      int count = 0;
      for (int32_t t = 0; t < taps; ++t) {
        const int32_t *i0 = ptrs[(size_t)ox * taps + t] + goff, *i1 = ptrs[(size_t)x1 * taps + t] + goff;
        const int32_t *i2 = ptrs[(size_t)x2 * taps + t] + goff, *i3 = ptrs[(size_t)x3 * taps + t] + goff;
        const int32_t *f = fb + (size_t)t * wg * 8;
        for (int32_t w = 0; w < wg; ++w) {
          const __m256i fv = _mm256_load_si256((const __m256i *)(f + w * 8));
          STEP(b0, i0);
          STEP(b1, i1);
          STEP(b2, i2);
          STEP(b3, i3);
          if (__builtin_expect(++count == 31, 0)) {
            FLUSH(a0, b0);
            FLUSH(a1, b1);
            FLUSH(a2, b2);
            FLUSH(a3, b3);
            count = 0;
          }
        }
      }
      FLUSH(a0, b0);
      FLUSH(a1, b1);
      FLUSH(a2, b2);
      FLUSH(a3, b3);
      _mm256_maskstore_epi32(acc + (size_t)ox * cout + oc0, mask, a0);
      if (np > 1) _mm256_maskstore_epi32(acc + (size_t)x1 * cout + oc0, mask, a1);
      if (np > 2) _mm256_maskstore_epi32(acc + (size_t)x2 * cout + oc0, mask, a2);
      if (np > 3) _mm256_maskstore_epi32(acc + (size_t)x3 * cout + oc0, mask, a3);
    }
  }
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
