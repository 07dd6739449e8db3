/* LceBconv2d: preparation (filter repacking, folded output transform) and the portable accumulator kernel
 * every faster level is tested against; bconv2d_rows.c drives the levels' kernels over the output. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lbe_internal.h"

static int fail(char *error, size_t len, const char *message, long value) {
  if (error && len) snprintf(error, len, message, value);
  return 0;
}

static int check_params(const lbe_bconv2d_params *p, int level, char *error, size_t len) {
  if (!lbe_level_supported(level)) return fail(error, len, "level %ld is not supported by this CPU", level);
  const int32_t dims[] = {p->batch, p->in_h, p->in_w, p->channels_in, p->out_h, p->out_w, p->channels_out,
                          p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->dilation_h, p->dilation_w,
                          p->groups};
  for (size_t i = 0; i < sizeof dims / sizeof dims[0]; ++i)
    if (dims[i] < 1) return fail(error, len, "every size, stride, dilation and groups must be >= 1, got %ld", dims[i]);
  if (p->groups > 1 && (p->channels_in % (32 * p->groups) != 0))
    return fail(error, len, "grouped conv needs channels_in a multiple of 32*groups, got channels_in %ld",
                p->channels_in);
  if (p->channels_out % p->groups != 0)
    return fail(error, len, "channels_out %ld is not a multiple of groups", p->channels_out);
  if (p->output < LBE_OUT_FLOAT || p->output > LBE_OUT_BITPACKED)
    return fail(error, len, "output %ld is not 0 (float), 1 (int8) or 2 (bitpacked)", p->output);
  if (p->activation < 0 || p->activation > 3)
    return fail(error, len, "activation %ld is not 0 none, 1 relu, 2 relu_n1_to_1, 3 relu6", p->activation);
  if (p->output == LBE_OUT_INT8 && !(p->output_scale > 0.0f))
    return fail(error, len, "int8 output needs output_scale > 0 (zero point %ld)", p->output_zero_point);
  if (p->pad_top < 0 || p->pad_left < 0) return fail(error, len, "negative padding %ld", p->pad_top);
  return 1;
}

void lbe_bconv2d_destroy(lbe_bconv2d *c) {
  if (!c) return;
  free(c->filter);
  free(c->pad_add);
  free(c->pad_fix);
  free(c->zeros);
  free(c->block_oc0);
  free(c->block_n);
  free(c->block_group);
  free(c->packed);
  free(c->mul);
  free(c->bias);
  free(c->thresholds);
  lbe_bconv2d_free_workspaces(c);
  free(c);
}

/* Blocks of `lanes` channels that never straddle a group; packed [block][tap][word][lane]. */
static int pack_blocks(lbe_bconv2d *c, int lanes) {
  const int32_t per_group = (c->cout_group + lanes - 1) / lanes;
  c->lanes = lanes;
  c->blocks = per_group * c->p.groups;
  c->block_oc0 = malloc(sizeof(int32_t) * c->blocks);
  c->block_n = malloc(sizeof(int32_t) * c->blocks);
  c->block_group = malloc(sizeof(int32_t) * c->blocks);
  const size_t block_words = (size_t)c->taps * c->words_group * lanes;
  size_t bytes = sizeof(int32_t) * block_words * c->blocks;
  bytes = (bytes + 63) / 64 * 64;
  c->packed = aligned_alloc(64, bytes ? bytes : 64);
  if (!c->block_oc0 || !c->block_n || !c->block_group || !c->packed) return 0;
  memset(c->packed, 0, bytes);
  for (int32_t b = 0; b < c->blocks; ++b) {
    const int32_t g = b / per_group, oc0 = g * c->cout_group + (b % per_group) * lanes;
    int32_t n = g * c->cout_group + c->cout_group - oc0;
    c->block_oc0[b] = oc0;
    c->block_n[b] = n < lanes ? n : lanes;
    c->block_group[b] = g;
    for (int32_t l = 0; l < c->block_n[b]; ++l)
      for (int32_t t = 0; t < c->taps; ++t)
        for (int32_t w = 0; w < c->words_group; ++w)
          c->packed[b * block_words + ((size_t)t * c->words_group + w) * lanes + l] =
              c->filter[((size_t)(oc0 + l) * c->taps + t) * c->words_group + w];
  }
  return 1;
}

/* AVX2 layout: per word, the 8 lanes' low nibbles (f & 0x0f0f0f0f) then high nibbles ((f >> 4) & 0x0f0f0f0f),
 * so the pshufb popcount needs no masking or shifting of the filter in the inner loop. */
static int split_nibbles(lbe_bconv2d *c) {
  const size_t words = (size_t)c->blocks * c->taps * c->words_group * c->lanes;
  int32_t *split = aligned_alloc(64, (sizeof(int32_t) * 2 * words + 63) / 64 * 64);
  if (!split) return 0;
  for (size_t k = 0; k < words / c->lanes; ++k)
    for (int32_t l = 0; l < c->lanes; ++l) {
      const uint32_t f = (uint32_t)c->packed[k * c->lanes + l];
      split[(2 * k) * c->lanes + l] = (int32_t)(f & 0x0f0f0f0fu);
      split[(2 * k + 1) * c->lanes + l] = (int32_t)((f >> 4) & 0x0f0f0f0fu);
    }
  free(c->packed);
  c->packed = split;
  return 1;
}

/* TFLite's CalculateActivationRange for int32, then LCE's folding into clamp bounds on 2*accum. */
static void fold_clamp(lbe_bconv2d *c, int32_t k) {
  int32_t lo = INT32_MIN, hi = INT32_MAX;
  if (c->p.activation == 1) lo = 0;
  if (c->p.activation == 2) lo = -1, hi = 1;
  if (c->p.activation == 3) lo = 0, hi = 6;
  if (lo < -k) lo = -k;
  if (hi > k) hi = k;
  c->clamp_min = k - hi;
  c->clamp_max = k - lo;
}

lbe_bconv2d *lbe_bconv2d_create(const lbe_bconv2d_params *p, int level, const int32_t *filter_ohwi_words,
                                const float *multiplier, const float *bias, const int32_t *thresholds,
                                char *error, size_t error_len) {
  if (error && error_len) error[0] = 0;
  if (!p || !filter_ohwi_words) return fail(error, error_len, "params and filter are required (%ld)", 0), NULL;
  if (!check_params(p, level, error, error_len)) return NULL;
  if (p->output == LBE_OUT_BITPACKED ? !thresholds : (!multiplier || !bias))
    return fail(error, error_len, "output %ld needs thresholds (bitpacked) or multiplier and bias", p->output), NULL;
  lbe_bconv2d *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->p = *p;
  c->level = level;
  c->words_in = (p->channels_in + 31) / 32;
  c->words_group = c->words_in / p->groups;
  c->cout_group = p->channels_out / p->groups;
  c->taps = p->kernel_h * p->kernel_w;
  const size_t filter_words = (size_t)p->channels_out * c->taps * c->words_group;
  const size_t table = (size_t)c->taps * p->channels_out;
  c->filter = malloc(sizeof(int32_t) * filter_words);
  c->pad_add = malloc(sizeof(int32_t) * table);
  c->pad_fix = malloc(sizeof(int32_t) * table);
  c->zeros = calloc((size_t)c->words_in, sizeof(int32_t));
  if (!c->filter || !c->pad_add || !c->pad_fix || !c->zeros) goto oom;
  memcpy(c->filter, filter_ohwi_words, sizeof(int32_t) * filter_words);
  const int32_t zero_point = (p->channels_in / p->groups) / 2;
  for (int32_t oc = 0; oc < p->channels_out; ++oc)
    for (int32_t t = 0; t < c->taps; ++t) {
      int32_t ones = 0;
      for (int32_t w = 0; w < c->words_group; ++w)
        ones += __builtin_popcount((uint32_t)c->filter[((size_t)oc * c->taps + t) * c->words_group + w]);
      const int32_t add = p->zero_padding ? zero_point : ones;
      c->pad_add[(size_t)t * p->channels_out + oc] = add;
      c->pad_fix[(size_t)t * p->channels_out + oc] = add - ones;
    }
  c->direct = level == LBE_AVX512 && p->groups == 1 && p->dilation_w == 1;
  if (level == LBE_AVX512 && !pack_blocks(c, 16)) goto oom;
  if (level == LBE_AVX2 && (!pack_blocks(c, 8) || !split_nibbles(c))) goto oom;
  if (p->output == LBE_OUT_BITPACKED) {
    c->thresholds = malloc(sizeof(int32_t) * p->channels_out);
    if (!c->thresholds) goto oom;
    memcpy(c->thresholds, thresholds, sizeof(int32_t) * p->channels_out);
  } else {
    const int32_t k = c->taps * (p->channels_in / p->groups);
    const double scale = p->output == LBE_OUT_INT8 ? p->output_scale : 1.0;
    const double zp = p->output == LBE_OUT_INT8 ? p->output_zero_point : 0.0;
    c->mul = malloc(sizeof(float) * p->channels_out);
    c->bias = malloc(sizeof(float) * p->channels_out);
    if (!c->mul || !c->bias) goto oom;
    for (int32_t oc = 0; oc < p->channels_out; ++oc) {
      const double m = multiplier[oc], b = bias[oc];
      c->mul[oc] = (float)(-1 * m / scale);
      c->bias[oc] = (float)((b + (double)k * m) / scale + zp);
    }
    fold_clamp(c, k);
  }
  return c;
oom:
  fail(error, error_len, "out of memory (%ld output channels)", p->channels_out);
  lbe_bconv2d_destroy(c);
  return NULL;
}

/* Portable accumulators, written like LCE's reference loop (independent of the im2col gather):
 * per pixel and tap, the bounds test once, then every output channel's popcounts. */
#define LBE_PORTABLE_ROW(NAME, ATTR)                                                                   \
  ATTR static void NAME(const lbe_bconv2d *c, const int32_t *input, int32_t b, int32_t oy, int32_t *acc) { \
    const lbe_bconv2d_params *p = &c->p;                                                              \
    const int32_t cout = p->channels_out, wg = c->words_group;                                        \
    for (int32_t ox = 0; ox < p->out_w; ++ox) {                                                       \
      int32_t *sum = acc + (size_t)ox * cout;                                                         \
      for (int32_t oc = 0; oc < cout; ++oc) sum[oc] = 0;                                              \
      for (int32_t ky = 0; ky < p->kernel_h; ++ky)                                                    \
        for (int32_t kx = 0; kx < p->kernel_w; ++kx) {                                                \
          const int32_t t = ky * p->kernel_w + kx;                                                    \
          const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;                      \
          const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;                     \
          if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {                                   \
            for (int32_t oc = 0; oc < cout; ++oc) sum[oc] += c->pad_add[(size_t)t * cout + oc];       \
            continue;                                                                                 \
          }                                                                                           \
          const uint32_t *pixel =                                                                     \
              (const uint32_t *)input + (((size_t)b * p->in_h + iy) * p->in_w + ix) * c->words_in;    \
          for (int32_t oc = 0; oc < cout; ++oc) {                                                     \
            const uint32_t *in = pixel + (size_t)(oc / c->cout_group) * wg;                           \
            const uint32_t *f = (const uint32_t *)c->filter + ((size_t)oc * c->taps + t) * wg;        \
            int32_t s = 0;                                                                            \
            for (int32_t w = 0; w < wg; ++w) s += __builtin_popcount(in[w] ^ f[w]);                   \
            sum[oc] += s;                                                                             \
          }                                                                                           \
        }                                                                                             \
    }                                                                                                 \
  }
LBE_PORTABLE_ROW(row_portable_popcnt, LBE_TARGET_POPCNT)
LBE_PORTABLE_ROW(row_portable_plain, )

void lbe_row_portable(const lbe_bconv2d *c, const int32_t *input, int32_t b, int32_t oy, int32_t *acc) {
  (lbe_cpu_has_popcnt() ? row_portable_popcnt : row_portable_plain)(c, input, b, oy, acc);
}

void lbe_transform_row(const lbe_bconv2d *c, const int32_t *acc, void *out_row) {
  const lbe_bconv2d_params *p = &c->p;
  const int32_t cout = p->channels_out;
  if (p->output == LBE_OUT_BITPACKED) {
    const int32_t words = (cout + 31) / 32;
    uint32_t *out = out_row;
    for (int32_t ox = 0; ox < p->out_w; ++ox)
      for (int32_t w = 0; w < words; ++w) {
        uint32_t bits = 0;
        const int32_t end = (w + 1) * 32 < cout ? (w + 1) * 32 : cout;
        for (int32_t oc = w * 32; oc < end; ++oc)
          bits |= (uint32_t)(acc[(size_t)ox * cout + oc] > c->thresholds[oc]) << (oc - w * 32);
        out[(size_t)ox * words + w] = bits;
      }
    return;
  }
  for (int32_t ox = 0; ox < p->out_w; ++ox) lbe_transform_tail(c, acc + (size_t)ox * cout, out_row, ox, 0);
}

void lbe_transform_tail(const lbe_bconv2d *c, const int32_t *a, void *out_row, int32_t ox, int32_t oc_begin) {
  const int32_t cout = c->p.channels_out;
  if (c->p.output == LBE_OUT_FLOAT) {
    float *out = (float *)out_row + (size_t)ox * cout;
    for (int32_t oc = oc_begin; oc < cout; ++oc) {
      int32_t x = a[oc] * 2;
      x = x < c->clamp_min ? c->clamp_min : x > c->clamp_max ? c->clamp_max : x;
      out[oc] = (float)x * c->mul[oc] + c->bias[oc];
    }
  } else {
    int8_t *out = (int8_t *)out_row + (size_t)ox * cout;
    for (int32_t oc = oc_begin; oc < cout; ++oc) {
      int32_t x = a[oc] * 2;
      x = x < c->clamp_min ? c->clamp_min : x > c->clamp_max ? c->clamp_max : x;
      const float y = roundf((float)x * c->mul[oc] + c->bias[oc]); /* half away from zero, as TfLiteRound */
      out[oc] = y >= 127.0f ? 127 : y <= -128.0f ? -128 : (int8_t)y;
    }
  }
}
