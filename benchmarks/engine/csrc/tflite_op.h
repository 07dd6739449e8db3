/* What tflite_adapter.c and the op files beside it share: the per-node state and small tensor helpers.
 * Internal; only these files know TFLite (through tflite_abi.h, checked at start-up). */
#ifndef LBE_TFLITE_OP_H
#define LBE_TFLITE_OP_H
#include <stdlib.h>
#include <string.h>

#include "lbe_internal.h"
#include "tflite_abi.h"

/* The ops, in the order tflite_adapter.c names and registers them. */
enum { OP_QUANTIZE = 0, OP_DEQUANTIZE = 1, OP_BCONV2D = 2, OP_BMAXPOOL2D = 3, OP_BCONV2D_ADD = 4, OP_MAXPOOL2D = 5, OP_MIRROR_PAD = 6, OP_AVGPOOL2D = 7, OP_DEPTHWISE = 8, OP_PACK = 9, OP_SIGN = 10, OP_BINARY = 11, OP_RESHAPE = 12,
       OP_STRIDED_SLICE = 13, OP_PIXEL_CHAIN = 14, N_OPS = 15 };

typedef struct lbe_tfl_session lbe_tfl_session;
typedef struct lbe_pixel_chain lbe_pixel_chain;
typedef struct {
  lbe_tfl_session *s;
  lbe_pool *pool; /* the session's, set at Prepare */
  int kind, index;
  int64_t channels_in, dil_h, dil_w, act, pad_values, padding, stride_h, stride_w, filter_h, filter_w, add_act, mode;
  int64_t axis;     /* LabBnnPack */
  int64_t slices, subtract; /* LabBnnMultiSliceSign */
  int64_t pads[16]; /* LabBnnMirrorPad: before/after per dim, read at Prepare */
  int64_t operation, swap, period; /* LabBnnBinary: 0 ADD / 1 MUL, inputs swapped, values of the broadcast one */
  int64_t begin_mask, end_mask;   /* LabBnnStridedSlice, then its resolved begin and strides (at Prepare) */
  int32_t begin[8], stride[8];
  int options_len;
  lbe_bconv2d *conv;
  lbe_pixel_chain *chain; /* LabBnnPixelChain: its checked program and scratch */
  int32_t out_h, out_w, pad_top, pad_left;
  TfLiteNode **followers; /* a team's leader: the engine ops it runs after itself (tflite_team.c) */
  int followers_n, team_checked, ran_early;
} op_t;

#define FAIL(...) do { ctx->ReportError(ctx, __VA_ARGS__); return kError; } while (0)
static inline TfLiteTensor *tensor(TfLiteContext *ctx, const TfLiteIntArray *ids, int i) {
  return i >= 0 && i < ids->size && ids->data[i] >= 0 && (size_t)ids->data[i] < ctx->tensors_size ? &ctx->tensors[ids->data[i]] : NULL;
}
static inline int64_t elements(const TfLiteTensor *t) {
  int64_t p = 1;
  for (int i = 0; i < t->dims->size; i++) p *= t->dims->data[i];
  return p;
}
/* 32-bit words holding `channels` bits. */
static inline int words(int64_t channels) { return (int)((channels + 31) / 32); }
/* Give `t` the shape `d[0..n)` unless it already has it. */
static inline int set_dims(TfLiteContext *ctx, TfLiteTensor *t, const int *d, int n) {
  if (t->dims && t->dims->size == n && memcmp(t->dims->data, d, sizeof(int) * (size_t)n) == 0) return kOk;
  TfLiteIntArray *a = malloc(sizeof(int) * (size_t)(n + 1)); /* TfLiteIntArrayFree is free() */
  if (!a) return kError;
  a->size = n;
  memcpy(a->data, d, sizeof(int) * (size_t)n);
  return ctx->ResizeTensor(ctx, t, a);
}

/* TFLite's SAME/VALID output size and leading padding (padding enum: 0 SAME, 1 VALID). */
static inline void out_and_pad(int in, int k, int stride, int dil, int64_t padding, int32_t *out, int32_t *pad) {
  int eff = (k - 1) * dil + 1;
  *out = padding == 0 ? (in + stride - 1) / stride : (in + stride - eff) / stride;
  int total = (*out - 1) * stride + eff - in;
  *pad = padding == 0 && total > 0 ? total / 2 : 0;
}
/* LceBconv2d and LabBnnBconv2dAdd (tflite_bconv_op.c); lbe_tfl_bconv_create makes *conv (destroying the one
 * there) from an LceBconv2d's tensors and op's options; out NULL: float output. */
int lbe_tfl_bconv_create(TfLiteContext *ctx, const op_t *op, int level, const TfLiteTensor *in, const TfLiteTensor *filter,
                         const TfLiteTensor *mul, const TfLiteTensor *bias, const TfLiteTensor *thr, const TfLiteTensor *out,
                         lbe_bconv2d **conv, lbe_bconv2d_params *params);
int lbe_tfl_prepare_bconv(TfLiteContext *ctx, TfLiteNode *node, op_t *op, int level);
int lbe_tfl_invoke_bconv(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
/* LceQuantize of int8/bool tensors and LceDequantize to them, `pixels` of `channels` (tflite_int8_bool.c). */
void lbe_tfl_quantize_int8_bool(const TfLiteTensor *in, int32_t *out, int64_t pixels, int channels);
void lbe_tfl_dequantize_int8_bool(const int32_t *in, TfLiteTensor *out, int64_t pixels, int channels);
/* Data-movement ops (tflite_data_ops.c): Prepare checks and shapes the output, Invoke copies. */
int lbe_tfl_prepare_mirror_pad(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_invoke_mirror_pad(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_prepare_pack(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_invoke_pack(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
/* LabBnnMultiSliceSign (tflite_sign_op.c). */
int lbe_tfl_prepare_multi_slice_sign(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_invoke_multi_slice_sign(TfLiteContext *ctx, TfLiteNode *node, op_t *op, int level);
/* Float ADD/MUL, RESHAPE and STRIDED_SLICE (tflite_float_ops.c). */
int lbe_tfl_prepare_binary(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_invoke_binary(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_prepare_reshape(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_invoke_reshape(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_prepare_strided_slice(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
int lbe_tfl_invoke_strided_slice(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
/* LabBnnPixelChain (tflite_pixel_chain.c). */
int lbe_tfl_prepare_pixel_chain(TfLiteContext *ctx, TfLiteNode *node, op_t *op, int level);
int lbe_tfl_invoke_pixel_chain(TfLiteContext *ctx, TfLiteNode *node, op_t *op);
void lbe_pixel_chain_free(lbe_pixel_chain *chain);
/* Runs of engine ops in one thread team (tflite_team.c): tflite::Subgraph's exported GetExecutionPlan and
 * GetNodeAndRegistration (TfLiteContext's own are forbidden to kernels), the invoke we register, one op's. */
typedef struct {
  int (*plan)(TfLiteContext *, TfLiteIntArray **);
  int (*node)(TfLiteContext *, int, TfLiteNode **, TfLiteRegistration **);
  int (*registered)(TfLiteContext *, TfLiteNode *);
  int (*one)(TfLiteContext *, TfLiteNode *);
  int64_t runs, ops, early; /* teams run, ops they ran, invokes that found their op run (since a reset) */
} lbe_tfl_teams;
int lbe_tfl_invoke_team(TfLiteContext *ctx, TfLiteNode *node, op_t *op, lbe_tfl_teams *f);
#endif
