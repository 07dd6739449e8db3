/* Internal declarations shared by the engine's C files (not part of the public API). */
#ifndef LBE_INTERNAL_H
#define LBE_INTERNAL_H
#include "lbe.h"

#define LBE_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vpopcntdq,popcnt")))
#define LBE_TARGET_AVX2 __attribute__((target("avx2,fma,popcnt")))
#define LBE_TARGET_POPCNT __attribute__((target("popcnt")))

/* Runs fn(ctx, begin, end, thread) over chunks of [0, n) that the pool's threads claim as they come
 * free (thread: 0 the caller, 1.. the workers; a thread's calls never overlap). */
typedef void (*lbe_task_fn)(void *ctx, int64_t begin, int64_t end, int thread);
void lbe_pool_run(lbe_pool *pool, lbe_task_fn fn, void *ctx, int64_t n);
int lbe_cpu_has_popcnt(void);
int lbe_pool_threads(const lbe_pool *pool); /* 1 for NULL */
/* Whether `amount` of work (the caller's unit) reaches `threshold`, the least worth waking a worker for; less
 * inside a team, where a split is cheaper. 0 on one thread. */
int lbe_pool_worth_splitting(const lbe_pool *pool, int64_t amount, int64_t threshold);
/* pthreadpool_parallelize_1d's signature (pthreadpool.h), called through a pointer the caller found. */
typedef void (*lbe_parallelize_1d)(void *pthreadpool, void (*task)(void *, size_t), void *context, size_t range,
                                   uint32_t flags);
/* A pool whose jobs run on `pthreadpool` (threads >= 2 slots); NULL if any argument is missing. */
lbe_pool *lbe_pool_create_shared(void *pthreadpool, lbe_parallelize_1d parallelize, int threads);
#define PTHREADPOOL_FLAG_YIELD_WORKERS 0x2u /* pthreadpool.h */
void lbe_pool_yield(lbe_pool *pool);
/* Runs lead(ctx) on the caller with the pool's threads held in one pthreadpool job, so lbe_pool_run calls
 * inside it skip pthreadpool's dispatch; -1 (nothing run) unless the pool is shared and has 2+ threads. */
typedef void (*lbe_team_fn)(void *ctx);
int lbe_pool_team(lbe_pool *pool, lbe_team_fn lead, void *ctx);
void lbe_pool_team_counts(const lbe_pool *pool, int64_t *counts);
void lbe_pool_team_counts_reset(lbe_pool *pool);

struct lbe_bconv2d {
  lbe_bconv2d_params p;
  int level;
  int32_t words_in;    /* ceil(channels_in / 32): words per input pixel */
  int32_t words_group; /* filter's last dimension: words per group */
  int32_t cout_group;  /* channels_out / groups */
  int32_t taps;        /* kernel_h * kernel_w */
  int32_t *filter;     /* OHWI copy [channels_out][taps][words_group] */
  int32_t *pad_add;    /* [taps][channels_out]: what an out-of-bounds tap adds to the accumulator */
  int32_t *pad_fix;    /* [taps][channels_out]: pad_add - popcount(filter tap); vector kernels read zeros outside */
  int32_t *zeros;      /* words_in zero words: the input of an out-of-bounds tap */
  /* Vector levels: blocks of `lanes` output channels inside one group, lanes past the block's end zero. */
  int32_t lanes, blocks;
  int direct; /* AVX-512, groups == 1, no horizontal dilation: bconv2d_direct.c runs it */
  int32_t *block_oc0, *block_n, *block_group;
  int32_t *packed; /* [blocks][taps][words_group][lanes], 64-byte aligned (AVX2: [..][2][lanes], nibbles) */
  /* Output transform, folded as LCE's OneTimeSetup does. */
  float *mul, *bias;
  int32_t clamp_min, clamp_max;
  int32_t *thresholds;
  /* Per-thread row buffers kept between calls (bconv2d.c): one caller at a time takes them, another allocates
   * its own. Allocating and freeing them each call cost ~0.5 us of a 7 us call at 2 threads (BoolNet 16x16). */
  void *kept_workspaces;
  int kept_threads, kept_busy;
};

/* Accumulators of npix consecutive output pixels for group g's channels: acc[i * channels_out + oc].
 * cols[i * taps * words_group ...] holds each pixel's input words of group g, tap-major
 * (zeros for out-of-bounds taps), so the inner loop is one flat run of words. */
typedef void (*lbe_row_fn)(const struct lbe_bconv2d *c, const int32_t *cols, int32_t npix, int32_t group,
                           int32_t *acc);
void lbe_row_avx512(const struct lbe_bconv2d *c, const int32_t *cols, int32_t npix, int32_t group, int32_t *acc);
/* AVX-512: npix pixels each given by a pointer to its first tap, group g's channels (bconv2d_avx512.c). */
void lbe_pixels_avx512(const struct lbe_bconv2d *c, const int32_t *const *pixels, int32_t segs, int64_t seg_stride,
                       int32_t seg_len, int32_t npix, int32_t group, int32_t *acc);
/* The same for groups == 1 over channel blocks [blk_begin, blk_end) only (acc keeps channels_out per pixel). */
void lbe_pixels_blocks_avx512(const struct lbe_bconv2d *c, const int32_t *const *pixels, int32_t segs,
                              int64_t seg_stride, int32_t seg_len, int32_t npix, int32_t blk_begin, int32_t blk_end,
                              int32_t *acc);
/* lbe_pixels_blocks_avx512 for float output with the output transform (and the fused ADD and LceQuantize)
 * applied to each block's accumulators in registers: pixel i's floats at out + i * channels_out. */
typedef struct {
  float *out;
  const float *residual; /* same layout as out, or NULL */
  int add_activation;
  const float *alpha;        /* PRELU after the ADD ([channels_out] slopes), or NULL */
  uint16_t *bits;            /* LceQuantize of out, pixel i's words at bits + i * 2 * words; or NULL */
  const int32_t *const *fix; /* zero padding: pixel i's accumulator correction [channels_out], or NULL */
} lbe_epilogue;
void lbe_pixels_finish_avx512(const struct lbe_bconv2d *c, const int32_t *const *pixels, int32_t segs,
                              int64_t seg_stride, int32_t seg_len, int32_t npix, int32_t blk_begin, int32_t blk_end,
                              const lbe_epilogue *e);
/* The AVX-512 driver for groups == 1 and no horizontal dilation over a padded copy of the input
 * (bconv2d_direct.c); returns 0 (nothing done) for other convs. */
int lbe_bconv2d_run_direct(const struct lbe_bconv2d *c, const int32_t *input, void *output, int accumulators_only,
                           lbe_pool *pool, const float *residual, int add_activation, const float *alpha,
                           int32_t *bits);
void lbe_row_avx2(const struct lbe_bconv2d *c, const int32_t *cols, int32_t npix, int32_t group, int32_t *acc);
void lbe_row_avx2_grouped(const struct lbe_bconv2d *c, const int32_t *cols, int32_t npix, int32_t group,
                          int32_t *acc);
void lbe_quantize_avx512(const float *in, int32_t *out, int64_t pixels, int32_t channels);

void lbe_quantize_avx2(const float *in, int32_t *out, int64_t pixels, int32_t channels);
/* Output transforms of npix pixels' accumulators (acc[i * channels_out + oc]) into out (pixel 0 first). */
void lbe_transform_avx512(const struct lbe_bconv2d *c, const int32_t *acc, int32_t npix, void *out,
                          const float *residual, int add_activation);
void lbe_transform_avx2(const struct lbe_bconv2d *c, const int32_t *acc, int32_t npix, void *out);
/* Float/int8 transform of pixel ox's channels [oc_begin, channels_out) (portable). */
void lbe_transform_tail(const struct lbe_bconv2d *c, const int32_t *acc_pixel, void *out_row, int32_t ox,
                        int32_t oc_begin);
/* The portable kernel's accumulators of output row oy of image b, and their output transform (bconv2d.c). */
void lbe_row_portable(const struct lbe_bconv2d *c, const int32_t *input, int32_t b, int32_t oy, int32_t *acc);
void lbe_transform_row(const struct lbe_bconv2d *c, const int32_t *acc, void *out_row);
void lbe_bconv2d_free_workspaces(struct lbe_bconv2d *c);
/* For a pixel chain (tflite_pixel_chain.c) that runs a float-output conv unit by unit: the conv keeps a
 * workspace for each of `threads` threads from now on (0, or -1), and lbe_bconv2d_run_rows computes output
 * rows [first, first + count) (batch * out_h of them) into output (row `first`'s floats) on `thread`; calls
 * on one thread never overlap. 0, or -1 for a bad argument. */
int lbe_bconv2d_reserve_threads(struct lbe_bconv2d *conv, int threads);
int lbe_bconv2d_run_rows(const struct lbe_bconv2d *conv, const int32_t *input, float *output, int64_t first,
                         int64_t count, int thread);
/* Accumulators of output pixels [x0, x0+npix) of one row through row_fn on gathered taps (cols, outside:
 * scratch for npix pixels), zero padding corrected. */
void lbe_gathered_pixels(const struct lbe_bconv2d *c, const int32_t *input, int32_t b, int32_t oy, int32_t x0,
                         int32_t npix, int32_t *cols, uint8_t *outside, lbe_row_fn row_fn, int32_t *acc);
/* 1 and *out set if the FlexBuffers map b[0..n) maps `key` to an integer; 0 otherwise (absent or malformed). */
int lbe_flex_int(const uint8_t *b, size_t n, const char *key, int64_t *out);
/* TFLite's float activation range of a fused activation code (0 none: [-inf, inf], 1 relu, 2 relu_n1_to_1,
 * 3 relu6), as the engine's fused ADD, PRELU epilogue and pools clamp to it. */
static inline void lbe_activation_bounds(int activation, float *lo, float *hi) {
  *lo = -__builtin_inff(), *hi = __builtin_inff();
  if (activation == 1 || activation == 3) *lo = 0.0f;
  if (activation == 2) *lo = -1.0f, *hi = 1.0f;
  if (activation == 3) *hi = 6.0f;
}
static inline size_t lbe_output_pixel_bytes(const lbe_bconv2d_params *p) {
  return p->output == LBE_OUT_BITPACKED ? (size_t)((p->channels_out + 31) / 32) * 4
         : p->output == LBE_OUT_INT8    ? (size_t)p->channels_out
                                        : (size_t)p->channels_out * 4;
}
#endif
