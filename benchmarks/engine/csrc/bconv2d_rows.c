/* LceBconv2d's driver: output rows (or, on small maps, pieces of rows) split across the pool, each through
 * the level's accumulator kernel and output transform, with the fused ADD, PRELU and LceQuantize; and a range
 * of output rows on one thread, for a pixel chain that runs the conv unit by unit. */
#include <stdlib.h>
#include "lbe_internal.h"

typedef struct {
  int32_t *scratch; /* one row's accumulators (not for accumulators_only) */
  uint8_t *outside; /* vector levels: outside-tap flags and gathered taps of one row */
  int32_t *cols;
} workspace;

static void free_workspaces(void *kept, int threads) {
  workspace *ws = kept;
  for (int t = 0; ws && t < threads; ++t) free(ws[t].scratch), free(ws[t].outside), free(ws[t].cols);
  free(ws);
}

void lbe_bconv2d_free_workspaces(lbe_bconv2d *c) { free_workspaces(c->kept_workspaces, c->kept_threads); }

/* The conv's kept workspaces when no other caller holds them (*kept = 1), else new ones; each thread fills
 * its own on first use. The cache is the conv's only state that changes after creation. */
static workspace *take_workspaces(const lbe_bconv2d *c, int threads, int *kept) {
  lbe_bconv2d *m = (lbe_bconv2d *)c;
  *kept = 0;
  if (__atomic_exchange_n(&m->kept_busy, 1, __ATOMIC_ACQUIRE) == 0) {
    if (m->kept_threads < threads) {
      free_workspaces(m->kept_workspaces, m->kept_threads);
      m->kept_workspaces = calloc((size_t)threads, sizeof(workspace));
      m->kept_threads = m->kept_workspaces ? threads : 0;
    }
    if (m->kept_workspaces) return *kept = 1, m->kept_workspaces;
    __atomic_store_n(&m->kept_busy, 0, __ATOMIC_RELEASE);
  }
  workspace *ws = calloc((size_t)threads, sizeof *ws);
  if (!ws) abort(); /* out of memory */
  return ws;
}

static void give_back_workspaces(const lbe_bconv2d *c, workspace *ws, int threads, int kept) {
  if (kept)
    __atomic_store_n(&((lbe_bconv2d *)c)->kept_busy, 0, __ATOMIC_RELEASE);
  else
    free_workspaces(ws, threads);
}

typedef struct {
  const lbe_bconv2d *c;
  const int32_t *input;
  void *output;
  int64_t output_first; /* the output pixel (batch * out_h + oy) * out_w + ox that `output` points at */
  int accumulators_only;
  int32_t segments; /* each output row is split into this many pixel ranges (units of work) */
  workspace *ws;    /* one per pool thread, filled by the thread on first use */
  const float *residual; /* fused ADD (float output only) or NULL */
  int add_activation;
  const float *alpha; /* fused PRELU after the ADD: [channels_out] slopes, or NULL */
  int32_t *bits; /* LceQuantize of the float output, fused (NULL: none) */
} run_ctx;

static void ready_workspace(const run_ctx *ctx, workspace *ws) {
  const lbe_bconv2d *c = ctx->c;
  const lbe_bconv2d_params *p = &c->p;
  const int vector = c->level != LBE_PORTABLE;
  const size_t pixel_words = (size_t)c->taps * c->words_in; /* every group's words: bconv2d_gather.c */
  if (!ctx->accumulators_only && !ws->scratch) ws->scratch = malloc(sizeof(int32_t) * p->out_w * p->channels_out);
  if (vector && !ws->outside) ws->outside = malloc((size_t)p->out_w * c->taps);
  if (vector && !ws->cols) ws->cols = aligned_alloc(64, (sizeof(int32_t) * p->out_w * pixel_words + 63) / 64 * 64);
  if ((!ctx->accumulators_only && !ws->scratch) || (vector && (!ws->outside || !ws->cols))) abort(); /* out of memory */
}

/* Output pixels [x0, x0 + npix) of output row `row` (batch * out_h + oy); the portable kernel's units are whole
 * rows. */
static void run_span(const run_ctx *ctx, workspace *ws, int64_t row, int32_t x0, int32_t npix) {
  const lbe_bconv2d *c = ctx->c;
  const lbe_bconv2d_params *p = &c->p;
  const int32_t cout = p->channels_out;
  const int32_t b = (int32_t)(row / p->out_h), oy = (int32_t)(row % p->out_h);
  const int64_t pixel = row * p->out_w + x0 - ctx->output_first;
  int32_t *acc = ctx->accumulators_only ? (int32_t *)ctx->output + pixel * cout : ws->scratch;
  if (c->level == LBE_PORTABLE) {
    lbe_row_portable(c, ctx->input, b, oy, acc);
  } else {
    const lbe_row_fn row_fn = c->level == LBE_AVX512 ? lbe_row_avx512 : lbe_row_avx2;
    lbe_gathered_pixels(c, ctx->input, b, oy, x0, npix, ws->cols, ws->outside, row_fn, acc); /* AVX2; grouped AVX-512 */
  }
  if (ctx->accumulators_only) return;
  const size_t pixel_bytes = lbe_output_pixel_bytes(p);
  void *dst = (char *)ctx->output + pixel * pixel_bytes;
  const float *residual = ctx->residual ? ctx->residual + pixel * cout : NULL;
  if (c->level == LBE_AVX512) {
    lbe_transform_avx512(c, acc, npix, dst, residual, ctx->add_activation);
  } else {
    if (c->level == LBE_AVX2)
      lbe_transform_avx2(c, acc, npix, dst);
    else
      lbe_transform_row(c, acc, dst);
    if (residual) lbe_add_act_f32(dst, residual, (int64_t)npix * cout, ctx->add_activation);
  }
  if (residual && ctx->alpha) lbe_prelu_f32(dst, ctx->alpha, npix, cout);
  if (ctx->bits) lbe_quantize_f32(dst, ctx->bits + pixel * ((cout + 31) / 32), npix, cout, c->level);
}

/* Portable units are whole rows; vector units are (row, pixel range) pairs. */
static void run_units(void *ctx_, int64_t begin, int64_t end, int thread) {
  const run_ctx *ctx = ctx_;
  const int32_t out_w = ctx->c->p.out_w;
  workspace *ws = &ctx->ws[thread];
  ready_workspace(ctx, ws);
  for (int64_t unit = begin; unit < end; ++unit) {
    const int32_t seg = (int32_t)(unit % ctx->segments);
    const int32_t x0 = (int32_t)((int64_t)out_w * seg / ctx->segments);
    run_span(ctx, ws, unit / ctx->segments, x0, (int32_t)((int64_t)out_w * (seg + 1) / ctx->segments) - x0);
  }
}

static void run(const lbe_bconv2d *c, const int32_t *input, void *output, int accumulators_only, lbe_pool *pool,
                const float *residual, int add_activation, const float *alpha, int32_t *bits) {
  if (lbe_bconv2d_run_direct(c, input, output, accumulators_only, pool, residual, add_activation, alpha, bits)) return;
  const int64_t rows = (int64_t)c->p.batch * c->p.out_h;
  const int threads = lbe_pool_threads(pool);
  int32_t segments = 1;
  if (threads > 1 && c->level != LBE_PORTABLE) { /* few rows (small maps): split rows so threads balance */
    const int64_t wanted = (4 * threads + rows - 1) / rows, most = c->p.out_w / 4 > 1 ? c->p.out_w / 4 : 1;
    segments = (int32_t)(wanted < most ? wanted : most);
  }
  int kept;
  workspace *ws = take_workspaces(c, threads, &kept);
  run_ctx ctx = {c, input, output, 0, accumulators_only, segments, ws, residual, add_activation, alpha, bits};
  lbe_pool_run(pool, run_units, &ctx, rows * segments);
  give_back_workspaces(c, ws, threads, kept);
}

int lbe_bconv2d_run(const lbe_bconv2d *conv, const int32_t *input, void *output, lbe_pool *pool) {
  if (!conv || !input || !output) return -1;
  run(conv, input, output, 0, pool, NULL, 0, NULL, NULL);
  return 0;
}

int lbe_bconv2d_run_fused(const lbe_bconv2d *conv, const int32_t *input, float *output, const float *residual,
                          int activation, const float *alpha, int32_t *bits, lbe_pool *pool) {
  if (!conv || !input || !output || !residual || conv->p.output != LBE_OUT_FLOAT || activation < 0 || activation > 3)
    return -1;
  run(conv, input, output, 0, pool, residual, activation, alpha, bits);
  return 0;
}

int lbe_bconv2d_run_add(const lbe_bconv2d *conv, const int32_t *input, float *output, const float *residual,
                        int activation, lbe_pool *pool) {
  return lbe_bconv2d_run_fused(conv, input, output, residual, activation, NULL, NULL, pool);
}

int lbe_bconv2d_run_add_quantize(const lbe_bconv2d *conv, const int32_t *input, float *output, const float *residual,
                                 int activation, int32_t *bits, lbe_pool *pool) {
  return bits ? lbe_bconv2d_run_fused(conv, input, output, residual, activation, NULL, bits, pool) : -1;
}

int lbe_bconv2d_accumulators(const lbe_bconv2d *conv, const int32_t *input, int32_t *accumulators, lbe_pool *pool) {
  if (!conv || !input || !accumulators) return -1;
  run(conv, input, accumulators, 1, pool, NULL, 0, NULL, NULL);
  return 0;
}

int lbe_bconv2d_reserve_threads(lbe_bconv2d *conv, int threads) {
  int kept;
  if (!conv || threads < 1 || conv->kept_busy) return -1;
  workspace *ws = take_workspaces(conv, threads, &kept); /* never given back: lbe_bconv2d_run allocates its own */
  if (!kept) free_workspaces(ws, threads);
  return kept ? 0 : -1;
}

int lbe_bconv2d_run_rows(const lbe_bconv2d *conv, const int32_t *input, float *output, int64_t first, int64_t count,
                         int thread) {
  if (!conv || !input || !output || conv->p.output != LBE_OUT_FLOAT || first < 0 || count < 0 ||
      first + count > (int64_t)conv->p.batch * conv->p.out_h || thread < 0 || thread >= conv->kept_threads)
    return -1;
  run_ctx ctx = {conv, input, output, first * conv->p.out_w, 0, 1, conv->kept_workspaces, NULL, 0, NULL, NULL};
  workspace *ws = &ctx.ws[thread];
  ready_workspace(&ctx, ws);
  for (int64_t row = first; row < first + count; ++row) run_span(&ctx, ws, row, 0, conv->p.out_w);
  return 0;
}
