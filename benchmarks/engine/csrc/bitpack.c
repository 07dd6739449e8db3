/* LceQuantize (float -> packed words, x < 0 -> bit 1, LSB first) and LceDequantize (bit 0 -> +1, bit 1 -> -1). */
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

void lbe_dequantize_f32(const int32_t *in, float *out, int64_t pixels, int32_t channels) {
  const int32_t words = (channels + 31) / 32;
  for (int64_t px = 0; px < pixels; ++px) {
    const uint32_t *w = (const uint32_t *)in + px * words;
    float *o = out + px * channels;
    for (int32_t i = 0; i < channels; ++i) o[i] = (w[i / 32] >> (i % 32)) & 1u ? -1.0f : 1.0f;
  }
}
