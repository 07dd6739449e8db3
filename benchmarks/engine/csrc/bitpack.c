/* LceQuantize (float -> packed words, x < 0 -> bit 1, LSB first) and LceDequantize (bit 0 -> +1, bit 1 -> -1). */
#include <immintrin.h>
#include "lbe_internal.h"

static void quantize_portable(const float *in, int32_t *out, int64_t pixels, int32_t channels) {
  const int32_t words = (channels + 31) / 32;
  for (int64_t px = 0; px < pixels; ++px) {
    const float *x = in + px * channels;
    uint32_t *o = (uint32_t *)out + px * words;
    for (int32_t w = 0; w < words; ++w) {
      uint32_t bits = 0;
      const int32_t end = (w + 1) * 32 < channels ? (w + 1) * 32 : channels;
      for (int32_t i = w * 32; i < end; ++i) bits |= (uint32_t)(x[i] < 0.0f) << (i - w * 32);
      o[w] = bits;
    }
  }
}

void lbe_quantize_f32(const float *in, int32_t *out, int64_t pixels, int32_t channels, int level) {
  if (level == LBE_AVX512 && lbe_level_supported(LBE_AVX512))
    lbe_quantize_avx512(in, out, pixels, channels);
  else if (level == LBE_AVX2 && lbe_level_supported(LBE_AVX2))
    lbe_quantize_avx2(in, out, pixels, channels);
  else
    quantize_portable(in, out, pixels, channels);
}

typedef struct {
  const float *in;
  int32_t *out;
  int64_t pixels;
  int32_t channels, level;
} quantize_job;

enum { QUANTIZE_UNIT = 64 }; /* pixels per unit of the pool's work */

static void quantize_units(void *job_, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const quantize_job *j = job_;
  const int64_t first = begin * QUANTIZE_UNIT, last = end * QUANTIZE_UNIT < j->pixels ? end * QUANTIZE_UNIT : j->pixels;
  const int32_t words = (j->channels + 31) / 32;
  lbe_quantize_f32(j->in + first * j->channels, j->out + first * words, last - first, j->channels, j->level);
}

/* lbe_quantize_f32 with the pixels split across the pool: each thread packs its contiguous part, the part
 * its core wrote when the op before split its output the same way. */
void lbe_quantize_f32_pool(const float *in, int32_t *out, int64_t pixels, int32_t channels, int level, lbe_pool *pool) {
  if (!lbe_pool_worth_splitting(pool, pixels * channels, 64 << 10)) { /* too little to wake a thread for */
    lbe_quantize_f32(in, out, pixels, channels, level);
    return;
  }
  quantize_job job = {in, out, pixels, channels, level};
  lbe_pool_run(pool, quantize_units, &job, (pixels + QUANTIZE_UNIT - 1) / QUANTIZE_UNIT);
}

/* 16 channels per blend of +1/-1 by their 16 bits. */
LBE_TARGET_AVX512 static void dequantize_avx512(const int32_t *in, float *out, int64_t pixels, int32_t channels) {
  const int32_t words = (channels + 31) / 32;
  const __m512 plus = _mm512_set1_ps(1.0f), minus = _mm512_set1_ps(-1.0f);
  for (int64_t px = 0; px < pixels; ++px) {
    const uint16_t *h = (const uint16_t *)(in + px * words);
    float *o = out + px * channels;
    for (int32_t c = 0; c < channels; c += 16) {
      const int32_t n = channels - c;
      const __mmask16 m = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
      _mm512_mask_storeu_ps(o + c, m, _mm512_mask_blend_ps((__mmask16)h[c / 16], plus, minus));
    }
  }
}

/* 8 channels per step: each lane tests its own bit of the broadcast byte. */
LBE_TARGET_AVX2 static void dequantize_avx2(const int32_t *in, float *out, int64_t pixels, int32_t channels) {
  const int32_t words = (channels + 31) / 32, full = channels / 8 * 8;
  const __m256i lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256 plus = _mm256_set1_ps(1.0f), minus = _mm256_set1_ps(-1.0f);
  for (int64_t px = 0; px < pixels; ++px) {
    const uint8_t *bytes = (const uint8_t *)(in + px * words);
    float *o = out + px * channels;
    for (int32_t c = 0; c < full; c += 8) {
      const __m256i set = _mm256_and_si256(_mm256_set1_epi32(bytes[c / 8]), lane_bits);
      const __m256 negative = _mm256_castsi256_ps(_mm256_cmpeq_epi32(set, lane_bits));
      _mm256_storeu_ps(o + c, _mm256_blendv_ps(plus, minus, negative));
    }
    for (int32_t c = full; c < channels; ++c) o[c] = (bytes[c / 8] >> (c % 8)) & 1u ? -1.0f : 1.0f;
  }
}

void lbe_dequantize_f32_at(const int32_t *in, float *out, int64_t pixels, int32_t channels, int level) {
  if (level >= LBE_AVX512 && lbe_level_supported(LBE_AVX512))
    dequantize_avx512(in, out, pixels, channels);
  else if (level == LBE_AVX2 && lbe_level_supported(LBE_AVX2))
    dequantize_avx2(in, out, pixels, channels);
  else
    lbe_dequantize_f32(in, out, pixels, channels);
}

void lbe_dequantize_f32(const int32_t *in, float *out, int64_t pixels, int32_t channels) {
  const int32_t words = (channels + 31) / 32;
  for (int64_t px = 0; px < pixels; ++px) {
    const uint32_t *w = (const uint32_t *)in + px * words;
    float *o = out + px * channels;
    for (int32_t i = 0; i < channels; ++i) o[i] = (w[i / 32] >> (i % 32)) & 1u ? -1.0f : 1.0f;
  }
}
