/* LceBconv2d on AVX-512 for groups == 1 without horizontal dilation. The input is copied once into a
 * buffer with a border of zero words, so every output pixel reads its taps in place (a kernel row is one
 * run of kernel_w * words_in adjacent words) and pixels go through the kernel eight at a time across row
 * ends: no per-pixel gathers and no one-pixel tails at the image edges. A zero word is exactly LCE's
 * one-padding (+1 -> bit 0); zero padding adds, to a border pixel's accumulators, the sum of pad_fix over its
 * outside taps. Float outputs (with the fused ADD and LceQuantize) are finished from the accumulator registers
 * (lbe_pixels_finish_avx512: QuickNet 224² 2-3% faster than through an accumulator buffer); int8 and
 * bit-packed ones go through that buffer. (Laying each pixel's taps out as one run, a copy kernel_h times the
 * input, measured slower at 56x56x64: 0.71 against 0.76 T/s.) */
#include <stdlib.h>
#include <string.h>
#include "lbe_internal.h"

enum { UNIT = 8, SPAN = 64 }; /* pixels per pool unit; pixels per kernel call (accumulator scratch) */

/* Zero padding's corrections by pixel class (below). */
typedef struct {
  int32_t *row_class, *col_class, *table; /* [out_h], [out_w], [row classes][col classes][channels_out] */
  int32_t col_classes;
} border_fixes;

typedef struct {
  const struct lbe_bconv2d *c;
  const int32_t *padded;
  int64_t padded_w, image_words, pixels;
  int64_t units;  /* pool units of one channel part: UNIT pixels each */
  int32_t parts;  /* channel parts: unit u of part q is pool index q * units + u */
  void *output;
  int accumulators_only;
  const float *residual;
  int add_activation;
  const float *alpha;
  int32_t *bits;           /* the fused LceQuantize's output, or NULL */
  int32_t **scratch;       /* [thread] SPAN * channels_out: zero-padding corrections */
  int32_t **accumulators;  /* [thread] SPAN * channels_out accumulators (int8 and bitpacked outputs) */
  const int32_t ***starts; /* [thread] SPAN pixel start pointers */
  const int32_t ***fixes;  /* [thread] SPAN pointers into border's table or scratch, or NULL */
  const border_fixes *border; /* zero padding's corrections by pixel class, or NULL */
} direct_ctx;

/* Zero padding: an outside tap adds (channels_in/groups)/2, not the popcount of the filter a zero word gives.
 * The taps outside the input depend on the output row and column only through which kernel rows and columns
 * fall outside: rows (and columns) with the same outside set share a class (class 0: none), and a pixel's
 * correction is the table row of its (row class, column class), the sum of pad_fix over those taps. */
/* Class of each output index along one axis (kernel <= 64 taps); masks[c]: the outside taps of class c. */
static int32_t classify(int32_t outs, int32_t kernel, int32_t stride, int32_t dilation, int32_t pad, int32_t in,
                        int32_t *cls, uint64_t *masks) {
  int32_t count = 1;
  masks[0] = 0;
  for (int32_t o = 0; o < outs; ++o) {
    uint64_t m = 0;
    for (int32_t t = 0; t < kernel; ++t) {
      const int64_t i = (int64_t)o * stride - pad + (int64_t)t * dilation;
      if (i < 0 || i >= in) m |= (uint64_t)1 << t;
    }
    int32_t c = 0;
    while (c < count && masks[c] != m) ++c;
    if (c == count) masks[count++] = m;
    cls[o] = c;
  }
  return count;
}

/* 0 (nothing allocated) for kernels over 64 taps a side: their pixels are corrected one by one. */
static int border_fixes_create(const struct lbe_bconv2d *c, border_fixes *f) {
  const lbe_bconv2d_params *p = &c->p;
  const int32_t cout = p->channels_out;
  if (p->kernel_h > 64 || p->kernel_w > 64) return 0;
  f->row_class = malloc(sizeof(int32_t) * p->out_h);
  f->col_class = malloc(sizeof(int32_t) * p->out_w);
  uint64_t *row_masks = malloc(sizeof(uint64_t) * (p->out_h + 1)), *col_masks = malloc(sizeof(uint64_t) * (p->out_w + 1));
  if (!f->row_class || !f->col_class || !row_masks || !col_masks) abort(); /* out of memory */
  const int32_t rows = classify(p->out_h, p->kernel_h, p->stride_h, p->dilation_h, p->pad_top, p->in_h, f->row_class,
                                row_masks);
  f->col_classes = classify(p->out_w, p->kernel_w, p->stride_w, 1, p->pad_left, p->in_w, f->col_class, col_masks);
  f->table = calloc((size_t)rows * f->col_classes * cout, sizeof(int32_t));
  if (!f->table) abort(); /* out of memory */
  for (int32_t rc = 0; rc < rows; ++rc)
    for (int32_t cc = 0; cc < f->col_classes; ++cc) {
      int32_t *a = f->table + ((size_t)rc * f->col_classes + cc) * cout;
      for (int32_t ky = 0; ky < p->kernel_h; ++ky)
        for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
          if (!((row_masks[rc] >> ky) & 1) && !((col_masks[cc] >> kx) & 1)) continue;
          const int32_t *fix = c->pad_fix + (size_t)(ky * p->kernel_w + kx) * cout;
          for (int32_t oc = 0; oc < cout; ++oc) a[oc] += fix[oc];
        }
    }
  free(row_masks);
  free(col_masks);
  return 1;
}

/* Kernels over 64 taps a side: pixel i's correction summed into rows[i] (fixes[i] NULL if none). */
static void pixel_fixes(const struct lbe_bconv2d *c, int64_t first, int32_t n, int32_t *rows, const int32_t **fixes) {
  const lbe_bconv2d_params *p = &c->p;
  const int32_t cout = p->channels_out;
  for (int32_t i = 0; i < n; ++i) {
    const int64_t flat = first + i;
    const int32_t ox = (int32_t)(flat % p->out_w), oy = (int32_t)(flat / p->out_w % p->out_h);
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    fixes[i] = NULL;
    if (iy0 >= 0 && iy0 + (p->kernel_h - 1) * p->dilation_h < p->in_h && ix0 >= 0 && ix0 + p->kernel_w - 1 < p->in_w)
      continue;
    int32_t *a = rows + (size_t)i * cout;
    for (int32_t oc = 0; oc < cout; ++oc) a[oc] = 0;
    for (int32_t ky = 0; ky < p->kernel_h; ++ky)
      for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
        const int32_t iy = iy0 + ky * p->dilation_h, ix = ix0 + kx;
        if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) continue;
        const int32_t *fix = c->pad_fix + (size_t)(ky * p->kernel_w + kx) * cout;
        for (int32_t oc = 0; oc < cout; ++oc) a[oc] += fix[oc];
      }
    fixes[i] = a;
  }
}

/* Pool indices [begin, end) of one channel part q: pixels of units [u0, u1) over its channel blocks. */
static void run_part(const direct_ctx *ctx, int32_t q, int64_t u0, int64_t u1, int thread) {
  const struct lbe_bconv2d *c = ctx->c;
  const lbe_bconv2d_params *p = &c->p;
  const int32_t cout = p->channels_out, words = c->words_in;
  const int32_t blk_begin = (int32_t)((int64_t)c->blocks * q / ctx->parts);
  const int32_t blk_end = (int32_t)((int64_t)c->blocks * (q + 1) / ctx->parts);
  const int32_t oc_begin = c->block_oc0[blk_begin], oc_end = c->block_oc0[blk_end - 1] + c->block_n[blk_end - 1];
  const int64_t last = u1 * UNIT < ctx->pixels ? u1 * UNIT : ctx->pixels;
  const int32_t **starts = ctx->starts[thread];
  for (int64_t first = u0 * UNIT; first < last; first += SPAN) {
    const int32_t n = (int32_t)(last - first < SPAN ? last - first : SPAN);
    /* stepped, not divided, per pixel */
    int64_t b = first / ((int64_t)p->out_h * p->out_w), oy = first / p->out_w % p->out_h, ox = first % p->out_w;
    const int32_t **fixes = ctx->fixes[thread];
    const border_fixes *bf = ctx->border;
    for (int32_t i = 0; i < n; ++i) {
      starts[i] = ctx->padded + b * ctx->image_words + (oy * p->stride_h * ctx->padded_w + ox * p->stride_w) * words;
      if (bf) {
        const int32_t rc = bf->row_class[oy], cc = bf->col_class[ox];
        fixes[i] = rc | cc ? bf->table + ((size_t)rc * bf->col_classes + cc) * cout : NULL;
      }
      if (++ox == p->out_w) {
        ox = 0;
        if (++oy == p->out_h) oy = 0, ++b;
      }
    }
    if (p->zero_padding && !bf) pixel_fixes(c, first, n, ctx->scratch[thread], fixes);
    const int32_t segs = p->kernel_h, seg_len = p->kernel_w * words;
    const int64_t seg_stride = (int64_t)p->dilation_h * ctx->padded_w * words;
    if (!ctx->accumulators_only && p->output == LBE_OUT_FLOAT) { /* transform in registers */
      const int32_t halves = 2 * ((cout + 31) / 32);
      const lbe_epilogue e = {(float *)ctx->output + first * cout, ctx->residual ? ctx->residual + first * cout : NULL,
                              ctx->add_activation, ctx->alpha, ctx->bits ? (uint16_t *)ctx->bits + first * halves : NULL,
                              p->zero_padding ? fixes : NULL};
      lbe_pixels_finish_avx512(c, starts, segs, seg_stride, seg_len, n, blk_begin, blk_end, &e);
      continue;
    }
    int32_t *acc = ctx->accumulators_only ? (int32_t *)ctx->output + first * cout : ctx->accumulators[thread];
    lbe_pixels_blocks_avx512(c, starts, segs, seg_stride, seg_len, n, blk_begin, blk_end, acc);
    for (int32_t i = 0; p->zero_padding && i < n; ++i)
      if (fixes[i])
        for (int32_t oc = oc_begin; oc < oc_end; ++oc) acc[(size_t)i * cout + oc] += fixes[i][oc];
    if (ctx->accumulators_only) continue;
    void *dst = (char *)ctx->output + first * (int64_t)lbe_output_pixel_bytes(p);
    lbe_transform_avx512(c, acc, n, dst, NULL, 0); /* int8 or bitpacked: no residual, no fused quantize */
  }
}

/* Small maps split the output channels across threads as well as the pixels: with few 8-pixel groups a
 * thread, splitting pixels alone leaves threads unequal (7x7: 7 groups, 4 on one thread) and every thread
 * streams all of the filters through its own cache. 7x7 512->512 at 2 threads: 97 -> 87 us; 14x14 256->256
 * gains nothing, so only maps under 8 groups a thread split. Int8 and bit-packed outputs need all of a
 * pixel's channels in one place, so they split pixels only. */
static int32_t channel_parts(const struct lbe_bconv2d *c, int64_t units, int threads, int accumulators_only) {
  if (threads < 2 || (!accumulators_only && c->p.output != LBE_OUT_FLOAT)) return 1;
  if (units >= 8 * (int64_t)threads || c->blocks < 2 * threads) return 1;
  return threads;
}

static void run_pixels(void *ctx_, int64_t begin, int64_t end, int thread) {
  const direct_ctx *ctx = ctx_;
  while (begin < end) { /* a claimed chunk may cross into the next part */
    const int32_t q = (int32_t)(begin / ctx->units);
    const int64_t part_end = (q + 1) * ctx->units, stop = end < part_end ? end : part_end;
    const int64_t u0 = begin - q * ctx->units, u1 = stop - q * ctx->units;
    /* odd parts walk the pixels from the end: two threads writing one pixel's fused bits (one cache line
     * at 512 channels) meet once in the middle instead of at every pixel */
    if (q % 2)
      run_part(ctx, q, ctx->units - u1, ctx->units - u0, thread);
    else
      run_part(ctx, q, u0, u1, thread);
    begin = stop;
  }
}

int lbe_bconv2d_run_direct(const struct lbe_bconv2d *c, const int32_t *input, void *output, int accumulators_only,
                           lbe_pool *pool, const float *residual, int add_activation, const float *alpha,
                           int32_t *bits) {
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
  border_fixes border = {NULL, NULL, NULL, 0};
  const int have_border = p->zero_padding && border_fixes_create(c, &border);
  const int threads = lbe_pool_threads(pool);
  int32_t *scratch[threads], *accumulators[threads];
  const int32_t **starts[threads], **fixes[threads];
  const size_t rows = sizeof(int32_t) * SPAN * p->channels_out;
  for (int t = 0; t < threads; ++t) {
    scratch[t] = p->zero_padding && !have_border ? malloc(rows) : NULL;
    accumulators[t] = !accumulators_only && p->output != LBE_OUT_FLOAT ? malloc(rows) : NULL;
    starts[t] = malloc(sizeof(int32_t *) * SPAN);
    fixes[t] = malloc(sizeof(int32_t *) * SPAN);
    if ((p->zero_padding && !have_border && !scratch[t]) || (!accumulators_only && p->output != LBE_OUT_FLOAT && !accumulators[t]) ||
        !starts[t] || !fixes[t])
      abort(); /* out of memory */
  }
  const int64_t pixels = (int64_t)p->batch * p->out_h * p->out_w, units = (pixels + UNIT - 1) / UNIT;
  const int32_t parts = channel_parts(c, units, threads, accumulators_only);
  direct_ctx ctx = {c, source, pw, ph * pw * words, pixels, units, parts, output, accumulators_only, residual,
                    add_activation, alpha, bits, scratch, accumulators, starts, fixes, have_border ? &border : NULL};
  lbe_pool_run(pool, run_pixels, &ctx, units * parts);
  for (int t = 0; t < threads; ++t) free(scratch[t]), free(accumulators[t]), free(starts[t]), free(fixes[t]);
  free(border.row_class), free(border.col_class), free(border.table);
  free(padded);
  return 1;
}
