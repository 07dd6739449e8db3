/* LceBconv2d's gathered path (AVX2, and grouped or horizontally dilated AVX-512): each output pixel's taps
 * are copied into one contiguous run of words (zeros outside the input), then the level's row kernel runs. */
#include <string.h>
#include "lbe_internal.h"

/* Gathers input words [word0, word0 + wg) of every tap of output pixels [x0, x0+npix) of one output row into
 * cols (tap-major per pixel, zeros outside the input); marks outside taps. Returns whether any was outside. */
static int gather_row(const lbe_bconv2d *c, const int32_t *input, int32_t b, int32_t oy, int32_t x0, int32_t npix,
                      int32_t word0, int32_t wg, int32_t *cols, uint8_t *outside) {
  const lbe_bconv2d_params *p = &c->p;
  const int32_t kw = p->kernel_w, dw = p->dilation_w;
  const int32_t *image = input + (size_t)b * p->in_h * p->in_w * c->words_in + (size_t)word0;
  int any = 0;
  for (int32_t i = 0; i < npix; ++i) {
    const int32_t ix0 = (x0 + i) * p->stride_w - p->pad_left;
    const int row_inside = ix0 >= 0 && ix0 + (kw - 1) * dw < p->in_w;
    int32_t *dst = cols + (size_t)i * c->taps * wg;
    uint8_t *out = outside + (size_t)i * c->taps;
    for (int32_t ky = 0; ky < p->kernel_h; ++ky, dst += (size_t)kw * wg, out += kw) {
      const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
      if (iy < 0 || iy >= p->in_h) {
        memset(dst, 0, sizeof(int32_t) * kw * wg);
        memset(out, 1, (size_t)kw);
        any = 1;
        continue;
      }
      const int32_t *line = image + (size_t)iy * p->in_w * c->words_in;
      if (row_inside && dw == 1 && wg == c->words_in) { /* the kw taps are adjacent in memory */
        memcpy(dst, line + (size_t)ix0 * wg, sizeof(int32_t) * kw * wg);
        memset(out, 0, (size_t)kw);
        continue;
      }
      for (int32_t kx = 0; kx < kw; ++kx) {
        const int32_t ix = ix0 + kx * dw;
        const int in = ix >= 0 && ix < p->in_w;
        const int32_t *src = line + (size_t)ix * c->words_in;
        for (int32_t w = 0; w < wg; ++w) dst[kx * wg + w] = in ? src[w] : 0;
        out[kx] = (uint8_t)!in;
        any |= !in;
      }
    }
  }
  return any;
}

/* Accumulators of output pixels [x0, x0+npix) of one row from gathered taps, zero padding corrected. A grouped
 * conv at a vector level gathers every group's words at once (whole runs of kw taps, one memcpy per kernel row)
 * and reads group g's as taps runs of words_group words at a stride of words_in: BoolNet's 4-group convs, one
 * word per group, gathered word by word per group took 60 % of their time at AVX-512, 30 % at AVX2. */
void lbe_gathered_pixels(const lbe_bconv2d *c, const int32_t *input, int32_t b, int32_t oy, int32_t x0,
                            int32_t npix, int32_t *cols, uint8_t *outside, lbe_row_fn row_fn, int32_t *acc) {
  const lbe_bconv2d_params *p = &c->p;
  const int32_t cout = p->channels_out;
  if (npix <= 0) return;
  int any_outside = 0;
  if (c->level == LBE_AVX512 && p->groups > 1) {
    any_outside = gather_row(c, input, b, oy, x0, npix, 0, c->words_in, cols, outside);
    const int64_t run = (int64_t)c->taps * c->words_in;
    for (int32_t p0 = 0; p0 < npix; p0 += 64) { /* pointers for up to 64 pixels at a time */
      const int32_t *starts[64];
      const int32_t n = npix - p0 < 64 ? npix - p0 : 64;
      for (int32_t g = 0; g < p->groups; ++g) {
        for (int32_t i = 0; i < n; ++i) starts[i] = cols + (size_t)(p0 + i) * run + (size_t)g * c->words_group;
        lbe_pixels_avx512(c, starts, c->taps, c->words_in, c->words_group, n, g, acc + (size_t)p0 * cout);
      }
    }
  } else if (c->level == LBE_AVX2 && p->groups > 1) {
    any_outside = gather_row(c, input, b, oy, x0, npix, 0, c->words_in, cols, outside);
    for (int32_t g = 0; g < p->groups; ++g) lbe_row_avx2_grouped(c, cols, npix, g, acc);
  } else {
    for (int32_t g = 0; g < p->groups; ++g) {
      any_outside = gather_row(c, input, b, oy, x0, npix, g * c->words_group, c->words_group, cols, outside);
      row_fn(c, cols, npix, g, acc);
    }
  }
  /* Zero padding: an outside tap adds (channels_in/groups)/2, not popcount(filter) as a zero word does. */
  if (any_outside && p->zero_padding)
    for (int32_t i = 0; i < npix; ++i)
      for (int32_t t = 0; t < c->taps; ++t)
        if (outside[(size_t)i * c->taps + t])
          for (int32_t oc = 0; oc < cout; ++oc) acc[(size_t)i * cout + oc] += c->pad_fix[(size_t)t * cout + oc];
}

