/* LceQuantize and LceDequantize of int8 and bool tensors, as LCE does: int8 below the zero point and bool false
 * pack to bit 1; bit 1 unpacks to bool false or to the int8 of -1.0 (zero point minus 1/scale, rounded and
 * clamped), bit 0 to true or +1.0. Scalar: quantized models are rare in the zoo and these maps are small. */
#include "tflite_op.h"

void lbe_tfl_quantize_int8_bool(const TfLiteTensor *in, int32_t *out, int64_t pixels, int channels) {
  const int w = words(channels);
  memset(out, 0, sizeof(int32_t) * (size_t)(pixels * w));
  for (int64_t i = 0; i < pixels; i++)
    for (int ch = 0; ch < channels; ch++) {
      const bool neg = in->type == kInt8 ? ((const int8_t *)in->data)[i * channels + ch] < in->params.zero_point
                                         : !((const bool *)in->data)[i * channels + ch];
      if (neg) out[i * w + ch / 32] |= (int32_t)(1u << (ch % 32));
    }
}

void lbe_tfl_dequantize_int8_bool(const int32_t *in, TfLiteTensor *out, int64_t pixels, int channels) {
  const int w = words(channels);
  const int off = out->type == kInt8 ? (int)(1.0f / out->params.scale + (out->params.scale > 0 ? 0.5f : -0.5f)) : 0;
  const int zp = out->params.zero_point, hi = zp + off > 127 ? 127 : zp + off, lo = zp - off < -128 ? -128 : zp - off;
  for (int64_t i = 0; i < pixels; i++)
    for (int ch = 0; ch < channels; ch++) {
      const bool neg = (in[i * w + ch / 32] >> (ch % 32)) & 1;
      if (out->type == kInt8) ((int8_t *)out->data)[i * channels + ch] = (int8_t)(neg ? lo : hi);
      else ((bool *)out->data)[i * channels + ch] = !neg;
    }
}
