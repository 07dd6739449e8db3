/* The residual ADD fused after a float-output LceBconv2d: y = act(y + r) in float32, the same
 * IEEE operations as TFLite's / XNNPACK's ADD with a fused activation (exact, order-free); and the PRELU
 * that may follow it. */
#include "lbe_internal.h"

/* y and r never alias (an op's output and input); cloned for AVX-512/AVX2 and vectorized (-O2 alone
 * leaves this loop scalar): same IEEE adds and clamps at any width. */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
void lbe_add_act_f32(float *restrict y, const float *restrict r, int64_t n, int activation) {
  float lo, hi;
  lbe_activation_bounds(activation, &lo, &hi);
  if (activation == 0) {
    for (int64_t i = 0; i < n; ++i) y[i] = y[i] + r[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    float v = y[i] + r[i];
    v = v < lo ? lo : v;
    y[i] = v > hi ? hi : v;
  }
}

/* -0.0 >= 0 keeps -0.0; a NaN fails the test and is multiplied (as TFLite's PRELU kernel). */
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
void lbe_prelu_f32(float *restrict y, const float *restrict alpha, int64_t pixels, int32_t channels) {
  for (int64_t px = 0; px < pixels; ++px, y += channels)
    for (int32_t c = 0; c < channels; ++c) y[c] = y[c] >= 0.0f ? y[c] : y[c] * alpha[c];
}
