/* LceBMaxPool2d: bitwise AND over each window's in-bounds pixels (padding ignored), start value all ones. */
#include "lbe_internal.h"

void lbe_bmaxpool2d(const int32_t *in, int32_t *out, int32_t batch, int32_t in_h, int32_t in_w, int32_t words,
                    int32_t out_h, int32_t out_w, int32_t filter_h, int32_t filter_w, int32_t stride_h,
                    int32_t stride_w, int32_t pad_top, int32_t pad_left) {
  for (int32_t b = 0; b < batch; ++b)
    for (int32_t oy = 0; oy < out_h; ++oy)
      for (int32_t ox = 0; ox < out_w; ++ox) {
        int32_t *o = out + (((size_t)b * out_h + oy) * out_w + ox) * words;
        for (int32_t w = 0; w < words; ++w) o[w] = ~(int32_t)0;
        for (int32_t ky = 0; ky < filter_h; ++ky) {
          const int32_t iy = oy * stride_h - pad_top + ky;
          if (iy < 0 || iy >= in_h) continue;
          for (int32_t kx = 0; kx < filter_w; ++kx) {
            const int32_t ix = ox * stride_w - pad_left + kx;
            if (ix < 0 || ix >= in_w) continue;
            const int32_t *x = in + (((size_t)b * in_h + iy) * in_w + ix) * words;
            for (int32_t w = 0; w < words; ++w) o[w] &= x[w];
          }
        }
      }
}
