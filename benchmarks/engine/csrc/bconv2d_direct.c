/* LceBconv2d on AVX-512 for groups == 1 without horizontal dilation. The input is copied once into a
 * buffer with a border of zero words, so every output pixel reads its taps in place (a kernel row is one
 * run of kernel_w * words_in adjacent words) and pixels go through the kernel eight at a time across row
 * ends: no per-pixel gathers and no one-pixel tails at the image edges. A zero word is exactly LCE's
 * one-padding (+1 -> bit 0); zero padding adds pad_fix for each outside tap afterwards. (Laying each
 * pixel's taps out as one run, a copy kernel_h times the input, measured slower at 56x56x64: 0.71 against
 * 0.76 T/s.) */
#include <stdlib.h>
#include <string.h>
#include "lbe_internal.h"

enum { UNIT = 8, SPAN = 64 }; /* pixels per pool unit; pixels per kernel call (accumulator scratch) */

typedef struct {
  const struct lbe_bconv2d *c;
  const int32_t *padded;
  int64_t padded_w, image_words, pixels;
  void *output;
  int accumulators_only;
  const float *residual;
  int add_activation;
  int32_t *bits;           /* the fused LceQuantize's output, or NULL */
  int32_t **scratch;       /* [thread] SPAN * channels_out accumulators */
  const int32_t ***starts; /* [thread] SPAN pixel start pointers */
} direct_ctx;

/* Zero padding: an outside tap adds (channels_in/groups)/2, not the popcount of the filter a zero word gives. */
static void fix_zero_padding(const struct lbe_bconv2d *c, int64_t first, int32_t n, int32_t *acc) {
  const lbe_bconv2d_params *p = &c->p;
  const int32_t cout = p->channels_out;
  for (int32_t i = 0; i < n; ++i) {
    const int64_t flat = first + i;
    const int32_t ox = (int32_t)(flat % p->out_w), oy = (int32_t)(flat / p->out_w % p->out_h);
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    if (iy0 >= 0 && iy0 + (p->kernel_h - 1) * p->dilation_h < p->in_h && ix0 >= 0 && ix0 + p->kernel_w - 1 < p->in_w)
      continue;
    for (int32_t ky = 0; ky < p->kernel_h; ++ky)
      for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
        const int32_t iy = iy0 + ky * p->dilation_h, ix = ix0 + kx;
        if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) continue;
        const int32_t *fix = c->pad_fix + (size_t)(ky * p->kernel_w + kx) * cout;
        int32_t *a = acc + (size_t)i * cout;
        for (int32_t oc = 0; oc < cout; ++oc) a[oc] += fix[oc];
      }
  }
}

static void run_pixels(void *ctx_, int64_t begin, int64_t end, int thread) {
  const direct_ctx *ctx = ctx_;
  const struct lbe_bconv2d *c = ctx->c;
  const lbe_bconv2d_params *p = &c->p;
  const int32_t cout = p->channels_out, words = c->words_in;
  const int64_t last = end * UNIT < ctx->pixels ? end * UNIT : ctx->pixels;
  const int32_t **starts = ctx->starts[thread];
  for (int64_t first = begin * UNIT; first < last; first += SPAN) {
    const int32_t n = (int32_t)(last - first < SPAN ? last - first : SPAN);
    int64_t row = first / p->out_w, ox = first % p->out_w; /* stepped, not divided, per pixel */
    for (int32_t i = 0; i < n; ++i) {
      const int64_t oy = row % p->out_h, b = row / p->out_h;
      starts[i] = ctx->padded + b * ctx->image_words + (oy * p->stride_h * ctx->padded_w + ox * p->stride_w) * words;
      if (++ox == p->out_w) ox = 0, ++row;
    }
    int32_t *acc = ctx->accumulators_only ? (int32_t *)ctx->output + first * cout : ctx->scratch[thread];
    lbe_pixels_avx512(c, starts, p->kernel_h, (int64_t)p->dilation_h * ctx->padded_w * words, p->kernel_w * words, n, 0,
                      acc);
    if (p->zero_padding) fix_zero_padding(c, first, n, acc);
    if (ctx->accumulators_only) continue;
    void *dst = (char *)ctx->output + first * (int64_t)lbe_output_pixel_bytes(p);
    lbe_transform_avx512(c, acc, n, dst, ctx->residual ? ctx->residual + first * cout : NULL, ctx->add_activation);
    /* while the n pixels' floats are in this core's cache */
    if (ctx->bits) lbe_quantize_avx512(dst, ctx->bits + first * ((cout + 31) / 32), n, cout);
  }
}

int lbe_bconv2d_run_direct(const struct lbe_bconv2d *c, const int32_t *input, void *output, int accumulators_only,
                           lbe_pool *pool, const float *residual, int add_activation, int32_t *bits) {
  const lbe_bconv2d_params *p = &c->p;
  if (!c->direct) return 0;
  const int32_t words = c->words_in;
  const int64_t need_h = (int64_t)(p->out_h - 1) * p->stride_h + (int64_t)(p->kernel_h - 1) * p->dilation_h + 1;
  const int64_t need_w = (int64_t)(p->out_w - 1) * p->stride_w + p->kernel_w;
  int64_t ph = p->pad_top + p->in_h, pw = p->pad_left + p->in_w;
  ph = ph > need_h ? ph : need_h;
  pw = pw > need_w ? pw : need_w;
  int32_t *padded = NULL;
  const int32_t *source = input;
  if (p->pad_top || p->pad_left || ph > p->in_h || pw > p->in_w) {
    padded = calloc((size_t)(p->batch * ph * pw * words), sizeof(int32_t));
    if (!padded) abort(); /* out of memory */
    for (int32_t b = 0; b < p->batch; ++b)
      for (int32_t y = 0; y < p->in_h; ++y)
        memcpy(padded + ((b * ph + p->pad_top + y) * pw + p->pad_left) * words,
               input + (((int64_t)b * p->in_h + y) * p->in_w) * words, sizeof(int32_t) * p->in_w * words);
    source = padded;
  } else {
    ph = p->in_h, pw = p->in_w;
  }
  const int threads = lbe_pool_threads(pool);
  int32_t *scratch[threads];
  const int32_t **starts[threads];
  for (int t = 0; t < threads; ++t) {
    scratch[t] = accumulators_only ? NULL : malloc(sizeof(int32_t) * SPAN * p->channels_out);
    starts[t] = malloc(sizeof(int32_t *) * SPAN);
    if ((!accumulators_only && !scratch[t]) || !starts[t]) abort(); /* out of memory */
  }
  const int64_t pixels = (int64_t)p->batch * p->out_h * p->out_w;
  direct_ctx ctx = {c, source, pw, ph * pw * words, pixels, output, accumulators_only, residual, add_activation,
                    bits, scratch, starts};
  lbe_pool_run(pool, run_pixels, &ctx, (pixels + UNIT - 1) / UNIT);
  for (int t = 0; t < threads; ++t) free(scratch[t]), free(starts[t]);
  free(padded);
  return 1;
}
