/* Runs the engine's kernels inside tflite-runtime 2.14.0 as LCE's four custom ops and fusion.py's:
 * - LabBnnBconv2dAdd: LceBconv2d's inputs + residual [+ PRELU slopes], options + add_activation;
 *   act(bconv + residual) [then PRELU], and optionally a second output, LceQuantize of that;
 * - LabBnnMaxPool2d, LabBnnAveragePool2d: a float MAX_POOL_2D / AVERAGE_POOL_2D (the latter of at most 9
 *   pixels a window, no padding), Pool2DOptions as FlexBuffers under LceBMaxPool2d's keys plus
 *   fused_activation_function;
 * - LabBnnMirrorPad, LabBnnPack: MIRROR_PAD with constant paddings, PACK (tflite_data_ops.c);
 * - LabBnnMultiSliceSign: BoolNet's TILE -> ADD/SUB -> LceQuantize [-> LceDequantize] (tflite_sign_op.c);
 * - LabBnnBinary, LabBnnReshape, LabBnnStridedSlice: float ADD/MUL, RESHAPE, STRIDED_SLICE (tflite_float_ops.c);
 * - LabBnnPixelChain: a run of the ops above that work pixel by pixel, run unit by unit (tflite_pixel_chain.c);
 * - LabBnnDepthwiseQuantize: a float DEPTHWISE_CONV_2D's inputs (depth multiplier 1) and options as
 *   FlexBuffers, the output its LceQuantize's (int32 words).
 *
 * Only this file (through tflite_abi.h, checked at start-up) knows TFLite. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tflite_op.h"

/* ---- session: one per interpreter (pool, level, per-op timers) ---- */
static const char *const OP_NAMES[] = {"LceQuantize", "LceDequantize", "LceBconv2d", "LceBMaxPool2d", "LabBnnBconv2dAdd",
                                       "LabBnnMaxPool2d", "LabBnnMirrorPad", "LabBnnAveragePool2d", "LabBnnDepthwiseQuantize", "LabBnnPack", "LabBnnMultiSliceSign",
                                       "LabBnnBinary", "LabBnnReshape", "LabBnnStridedSlice", "LabBnnPixelChain"};
enum { PROBE_FIELDS = 32 };

/* tflite-runtime's exported tflite::CpuBackendContext::GetFromContext (static) and get_xnnpack_threadpool
 * (a non-virtual member: `this` is the first argument), and pthreadpool_parallelize_1d. */
typedef void *(*cpu_backend_context_fn)(TfLiteContext *);
typedef void *(*xnnpack_threadpool_fn)(void *);
struct lbe_tfl_session {
  int level, threads, refs, n_ops, cap, probe;
  lbe_pool *pool; /* created at the first Prepare: shared with XNNPACK when we can, else our own */
  cpu_backend_context_fn cpu_backend_context;
  xnnpack_threadpool_fn xnnpack_threadpool;
  lbe_parallelize_1d parallelize;
  int shared; /* the pool runs on the interpreter's XNNPACK threadpool */
  lbe_tfl_teams team; /* plan and node NULL: no teams */
  int32_t *kinds;
  int64_t *ns;
  int64_t report[PROBE_FIELDS];
};

/* TFLite 2.14's Init gets no user pointer; Init runs synchronously inside the
 * interpreter's constructor on the registering thread, so the session travels there. */
static _Thread_local lbe_tfl_session *constructing;

lbe_tfl_session *lbe_tfl_session_create(int level, int threads, int probe) {
  lbe_tfl_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->level = level; s->threads = threads < 1 ? 1 : threads; s->refs = 1; s->probe = probe;
  return s;
}
/* Before the interpreter is built: the functions that find its XNNPACK threadpool (any NULL: our own pool). */
void lbe_tfl_session_share_threads(lbe_tfl_session *s, void *cpu_backend_context, void *xnnpack_threadpool,
                                   void *parallelize_1d) {
  s->cpu_backend_context = (cpu_backend_context_fn)cpu_backend_context;
  s->xnnpack_threadpool = (xnnpack_threadpool_fn)xnnpack_threadpool;
  s->parallelize = (lbe_parallelize_1d)parallelize_1d;
}
int lbe_tfl_session_shares_threads(const lbe_tfl_session *s) { return s->shared; }
void lbe_tfl_session_yield_workers(lbe_tfl_session *s) { lbe_pool_yield(s->pool); }
/* The interpreter's CpuBackendContext owns the pthreadpool its XNNPACK delegate runs on (created with the
 * interpreter's thread count); running our jobs there too leaves one set of threads on the cores. */
static int ensure_pool(lbe_tfl_session *s, TfLiteContext *ctx) {
  if (s->pool) return 1;
  if (s->threads > 1 && s->cpu_backend_context && s->xnnpack_threadpool && s->parallelize) {
    void *backend = s->cpu_backend_context(ctx);
    void *threadpool = backend ? s->xnnpack_threadpool(backend) : NULL;
    s->pool = lbe_pool_create_shared(threadpool, s->parallelize, s->threads);
    s->shared = s->pool != NULL;
  }
  if (!s->pool) s->pool = lbe_pool_create(s->threads);
  return s->pool != NULL;
}
static void session_release(lbe_tfl_session *s) {
  if (s && --s->refs == 0) { lbe_pool_destroy(s->pool); free(s->kinds); free(s->ns); free(s); }
}
void lbe_tfl_session_release(lbe_tfl_session *s) { session_release(s); }
int lbe_tfl_op_count(const lbe_tfl_session *s) { return s->n_ops; }
/* kinds[i], ns[i]: the i-th Lce op in the model's operator order. */
void lbe_tfl_op_times(const lbe_tfl_session *s, int32_t *kinds, int64_t *ns) {
  for (int i = 0; i < s->n_ops; i++) { kinds[i] = s->kinds[i]; ns[i] = s->ns[i]; }
}
void lbe_tfl_reset_times(lbe_tfl_session *s) {
  memset(s->ns, 0, sizeof(int64_t) * (size_t)s->n_ops);
  s->team.runs = s->team.ops = s->team.early = 0;
  lbe_pool_team_counts_reset(s->pool);
}
/* counts[0..5]: teams, ops they ran, invokes that found their op run, team jobs, worker parts run by workers and
 * by the caller (lbe_pool_team_counts). */
void lbe_tfl_team_counts(const lbe_tfl_session *s, int64_t *counts) {
  counts[0] = s->team.runs, counts[1] = s->team.ops, counts[2] = s->team.early;
  lbe_pool_team_counts(s->pool, counts + 3);
}
const int64_t *lbe_tfl_probe_report(const lbe_tfl_session *s) { return s->report; }
int lbe_tfl_probe_fields(void) { return PROBE_FIELDS; }
const char *lbe_tfl_op_name(int kind) { return kind >= 0 && kind < N_OPS ? OP_NAMES[kind] : "?"; }

/* ---- the ops ---- */

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void *op_init(TfLiteContext *ctx, const char *buf, size_t len, int kind) {
  lbe_tfl_session *s = constructing;
  if (!s) { ctx->ReportError(ctx, "lab-bnn engine: %s created outside lbe_tfl_register's interpreter", OP_NAMES[kind]); return NULL; }
  op_t *op = calloc(1, sizeof *op);
  if (!op) return NULL;
  if (s->n_ops == s->cap) {
    int cap = s->cap ? 2 * s->cap : 16;
    int32_t *k = realloc(s->kinds, sizeof(int32_t) * (size_t)cap);
    if (k) s->kinds = k;
    int64_t *t = realloc(s->ns, sizeof(int64_t) * (size_t)cap);
    if (t) s->ns = t;
    if (!k || !t) { free(op); return NULL; }
    s->cap = cap;
  }
  op->s = s; op->kind = kind; op->index = s->n_ops++; s->refs++;
  s->kinds[op->index] = kind; s->ns[op->index] = 0;
  const uint8_t *b = (const uint8_t *)buf;
  op->options_len = (int)len;
  op->dil_h = op->dil_w = op->stride_h = op->stride_w = op->filter_h = op->filter_w = 1;
  op->padding = 1;
  lbe_flex_int(b, len, "channels_in", &op->channels_in);
  lbe_flex_int(b, len, "dilation_height_factor", &op->dil_h);
  lbe_flex_int(b, len, "dilation_width_factor", &op->dil_w);
  lbe_flex_int(b, len, "fused_activation_function", &op->act);
  lbe_flex_int(b, len, "pad_values", &op->pad_values);
  lbe_flex_int(b, len, "padding", &op->padding);
  lbe_flex_int(b, len, "stride_height", &op->stride_h);
  lbe_flex_int(b, len, "stride_width", &op->stride_w);
  lbe_flex_int(b, len, "filter_height", &op->filter_h);
  lbe_flex_int(b, len, "filter_width", &op->filter_w); lbe_flex_int(b, len, "add_activation", &op->add_act);
  lbe_flex_int(b, len, "mode", &op->mode); lbe_flex_int(b, len, "axis", &op->axis);
  lbe_flex_int(b, len, "slices", &op->slices); lbe_flex_int(b, len, "subtract", &op->subtract);
  lbe_flex_int(b, len, "operation", &op->operation); lbe_flex_int(b, len, "begin_mask", &op->begin_mask);
  lbe_flex_int(b, len, "end_mask", &op->end_mask);
  return op;
}
static void op_free(TfLiteContext *ctx, void *p) {
  (void)ctx;
  op_t *op = p;
  if (!op) return;
  lbe_bconv2d_destroy(op->conv);
  lbe_pixel_chain_free(op->chain);
  free(op->followers);
  session_release(op->s);
  free(op);
}
#define INIT(NAME, KIND) \
  static void *NAME(TfLiteContext *c, const char *b, size_t n) { return op_init(c, b, n, KIND); }
INIT(init_quantize, OP_QUANTIZE)
INIT(init_dequantize, OP_DEQUANTIZE)
INIT(init_bconv2d, OP_BCONV2D)
INIT(init_bmaxpool2d, OP_BMAXPOOL2D)
INIT(init_bconv2d_add, OP_BCONV2D_ADD)
INIT(init_maxpool2d, OP_MAXPOOL2D)
INIT(init_mirror_pad, OP_MIRROR_PAD)
INIT(init_avgpool2d, OP_AVGPOOL2D)
INIT(init_depthwise, OP_DEPTHWISE)
INIT(init_pack, OP_PACK)
INIT(init_sign, OP_SIGN)
INIT(init_binary, OP_BINARY)
INIT(init_reshape, OP_RESHAPE)
INIT(init_strided_slice, OP_STRIDED_SLICE)
INIT(init_pixel_chain, OP_PIXEL_CHAIN)

static int64_t leading(const TfLiteTensor *t) {
  int64_t p = 1;
  for (int i = 0; i + 1 < t->dims->size; i++) p *= t->dims->data[i];
  return p;
}
static void probe_record(lbe_tfl_session *s, TfLiteContext *ctx, TfLiteNode *node, const op_t *op) {
  int64_t *r = s->report;
  const TfLiteTensor *ts[2] = {tensor(ctx, node->inputs, 0), tensor(ctx, node->outputs, 0)};
  r[0] = (int64_t)ctx->tensors_size; r[1] = node->inputs->size; r[2] = node->outputs->size;
  r[3] = op->options_len;
  for (int j = 0; j < 2; j++) {
    int64_t *q = r + 4 + 14 * j;
    const TfLiteTensor *t = ts[j];
    if (!t) continue;
    q[0] = t->type; q[1] = t->dims ? t->dims->size : -1;
    for (int d = 0; d < 8 && t->dims && d < t->dims->size; d++) q[2 + d] = t->dims->data[d];
    q[10] = (int64_t)t->bytes; q[11] = (int64_t)(intptr_t)t->data;
    q[12] = t->name ? (int64_t)strlen(t->name) : -1; q[13] = t->allocation_type;
  }
}

static int prepare(TfLiteContext *ctx, TfLiteNode *node) {
  op_t *op = node->user_data;
  if (!op) FAIL("lab-bnn engine: op was not initialised");
  if (!ensure_pool(op->s, ctx)) FAIL("lab-bnn engine: could not start %d threads", op->s->threads);
  op->pool = op->s->pool;
  op->team_checked = op->ran_early = 0; /* the plan may have changed */
  TfLiteTensor *in = tensor(ctx, node->inputs, 0), *out = tensor(ctx, node->outputs, 0);
  if (!in || !out || !in->dims || in->dims->size < 1) FAIL("lab-bnn engine: %s needs an input and an output", OP_NAMES[op->kind]);
  int n = in->dims->size, d[8];
  if (n > 8) FAIL("lab-bnn engine: %s input has %d dims (at most 8)", OP_NAMES[op->kind], n);
  memcpy(d, in->dims->data, sizeof(int) * (size_t)n);
  int rc = kOk;
  if (op->kind == OP_QUANTIZE) {
    if (in->type != kFloat32 && in->type != kInt8 && in->type != kBool) FAIL("lab-bnn engine: LceQuantize input type %d (float32, int8 or bool)", in->type);
    if (out->type != kInt32) FAIL("lab-bnn engine: LceQuantize output type %d (int32)", out->type);
    d[n - 1] = words(d[n - 1]);
    rc = set_dims(ctx, out, d, n);
  } else if (op->kind == OP_DEQUANTIZE) {
    if (in->type != kInt32) FAIL("lab-bnn engine: LceDequantize input type %d (int32)", in->type);
    if (out->type != kFloat32 && out->type != kInt8 && out->type != kBool) FAIL("lab-bnn engine: LceDequantize output type %d", out->type);
    if (!out->dims || out->dims->size != n || words(out->dims->data[n - 1]) != d[n - 1]) FAIL("lab-bnn engine: LceDequantize output shape must be static and match its input");
  } else if (op->kind == OP_MIRROR_PAD) {
    rc = lbe_tfl_prepare_mirror_pad(ctx, node, op);
  } else if (op->kind == OP_PACK) {
    rc = lbe_tfl_prepare_pack(ctx, node, op);
  } else if (op->kind == OP_SIGN) {
    rc = lbe_tfl_prepare_multi_slice_sign(ctx, node, op);
  } else if (op->kind == OP_PIXEL_CHAIN) {
    rc = lbe_tfl_prepare_pixel_chain(ctx, node, op, op->s->level);
  } else if (op->kind == OP_BINARY || op->kind == OP_RESHAPE || op->kind == OP_STRIDED_SLICE) {
    rc = (op->kind == OP_BINARY ? lbe_tfl_prepare_binary : op->kind == OP_RESHAPE ? lbe_tfl_prepare_reshape : lbe_tfl_prepare_strided_slice)(ctx, node, op);
  } else if (op->kind == OP_BMAXPOOL2D || op->kind == OP_MAXPOOL2D || op->kind == OP_AVGPOOL2D) {
    const int type = op->kind == OP_BMAXPOOL2D ? kInt32 : kFloat32;
    if (n != 4 || in->type != type || out->type != type) FAIL("lab-bnn engine: %s needs a 4-D %s input and output", OP_NAMES[op->kind], type == kInt32 ? "int32" : "float32");
    if (op->kind != OP_BMAXPOOL2D && (op->act < 0 || op->act > 3)) FAIL("lab-bnn engine: %s fused activation %d (0-3)", OP_NAMES[op->kind], (int)op->act);
    int32_t ph, pw;
    out_and_pad(d[1], (int)op->filter_h, (int)op->stride_h, 1, op->padding, &op->out_h, &ph);
    out_and_pad(d[2], (int)op->filter_w, (int)op->stride_w, 1, op->padding, &op->out_w, &pw);
    op->pad_top = ph; op->pad_left = pw;
    if (op->kind == OP_AVGPOOL2D && (ph || pw || op->filter_h * op->filter_w > 9)) FAIL("lab-bnn engine: LabBnnAveragePool2d needs windows of at most 9 pixels and no padding");
    int od[4] = {d[0], op->out_h, op->out_w, d[3]};
    rc = set_dims(ctx, out, od, 4);
  } else if (op->kind == OP_DEPTHWISE) {
    const TfLiteTensor *filter = tensor(ctx, node->inputs, 1), *bias = tensor(ctx, node->inputs, 2);
    if (n != 4 || in->type != kFloat32 || out->type != kInt32) FAIL("lab-bnn engine: LabBnnDepthwiseQuantize needs a 4-D float32 input and an int32 output");
    if (!filter || filter->type != kFloat32 || !filter->data || filter->dims->size != 4 || filter->dims->data[0] != 1 || filter->dims->data[3] != d[3])
      FAIL("lab-bnn engine: LabBnnDepthwiseQuantize needs a constant float filter [1, kh, kw, %d]", d[3]);
    if (bias && (bias->type != kFloat32 || !bias->data || bias->bytes != sizeof(float) * (size_t)d[3])) FAIL("lab-bnn engine: LabBnnDepthwiseQuantize needs %d constant float biases", d[3]);
    if (op->act < 0 || op->act > 3 || filter->dims->data[1] * filter->dims->data[2] > 64) FAIL("lab-bnn engine: LabBnnDepthwiseQuantize fused activation %d (0-3), at most 64 taps", (int)op->act);
    op->filter_h = filter->dims->data[1]; op->filter_w = filter->dims->data[2];
    out_and_pad(d[1], (int)op->filter_h, (int)op->stride_h, (int)op->dil_h, op->padding, &op->out_h, &op->pad_top);
    out_and_pad(d[2], (int)op->filter_w, (int)op->stride_w, (int)op->dil_w, op->padding, &op->out_w, &op->pad_left);
    int od[4] = {d[0], op->out_h, op->out_w, words(d[3])};
    rc = set_dims(ctx, out, od, 4);
  } else {
    rc = lbe_tfl_prepare_bconv(ctx, node, op, op->s->level);
  }
  if (op->s->probe && op->index == 0) probe_record(op->s, ctx, node, op);
  return rc;
}

static int invoke_one(TfLiteContext *ctx, TfLiteNode *node) {
  op_t *op = node->user_data;
  TfLiteTensor *in = tensor(ctx, node->inputs, 0), *out = tensor(ctx, node->outputs, 0);
  int64_t t0 = now_ns();
  int rc = kOk;
  if (op->kind == OP_QUANTIZE) {
    const int64_t px = leading(in);
    const int c = in->dims->data[in->dims->size - 1];
    if (in->type == kFloat32) lbe_quantize_f32_pool(in->data, out->data, px, c, op->s->level, op->s->pool);
    else lbe_tfl_quantize_int8_bool(in, out->data, px, c);
  } else if (op->kind == OP_DEQUANTIZE) {
    const int64_t px = leading(out);
    const int c = out->dims->data[out->dims->size - 1];
    if (out->type == kFloat32) lbe_dequantize_f32_at(in->data, out->data, px, c, op->s->level);
    else lbe_tfl_dequantize_int8_bool(in->data, out, px, c);
  } else if (op->kind == OP_BMAXPOOL2D) {
    const int *d = in->dims->data;
    lbe_bmaxpool2d(in->data, out->data, d[0], d[1], d[2], d[3], op->out_h, op->out_w, (int32_t)op->filter_h,
                   (int32_t)op->filter_w, (int32_t)op->stride_h, (int32_t)op->stride_w, op->pad_top, op->pad_left);
  } else if (op->kind == OP_MIRROR_PAD) {
    rc = lbe_tfl_invoke_mirror_pad(ctx, node, op);
  } else if (op->kind == OP_PACK) {
    rc = lbe_tfl_invoke_pack(ctx, node, op);
  } else if (op->kind == OP_SIGN) {
    rc = lbe_tfl_invoke_multi_slice_sign(ctx, node, op, op->s->level);
  } else if (op->kind == OP_PIXEL_CHAIN) {
    rc = lbe_tfl_invoke_pixel_chain(ctx, node, op);
  } else if (op->kind == OP_BINARY || op->kind == OP_RESHAPE || op->kind == OP_STRIDED_SLICE) {
    rc = (op->kind == OP_BINARY ? lbe_tfl_invoke_binary : op->kind == OP_RESHAPE ? lbe_tfl_invoke_reshape : lbe_tfl_invoke_strided_slice)(ctx, node, op);
  } else if (op->kind == OP_MAXPOOL2D || op->kind == OP_AVGPOOL2D) {
    const int *d = in->dims->data;
    const lbe_pool2d_params p = {d[0], d[1], d[2], d[3], op->out_h, op->out_w, (int32_t)op->filter_h, (int32_t)op->filter_w,
                                 (int32_t)op->stride_h, (int32_t)op->stride_w, op->pad_top, op->pad_left, (int32_t)op->act};
    if ((op->kind == OP_MAXPOOL2D ? lbe_maxpool2d_f32 : lbe_avgpool2d_f32)(in->data, out->data, &p, op->s->level, op->s->pool) != 0) rc = kError;
  } else if (op->kind == OP_DEPTHWISE) {
    const int *d = in->dims->data;
    const TfLiteTensor *bias = tensor(ctx, node->inputs, 2);
    const lbe_depthwise_params p = {d[0], d[1], d[2], d[3], op->out_h, op->out_w, (int32_t)op->filter_h, (int32_t)op->filter_w, (int32_t)op->stride_h,
                                    (int32_t)op->stride_w, (int32_t)op->dil_h, (int32_t)op->dil_w, op->pad_top, op->pad_left, (int32_t)op->act};
    if (lbe_depthwise_f32(in->data, tensor(ctx, node->inputs, 1)->data, bias ? bias->data : NULL, NULL, out->data, &p, op->s->level, op->s->pool) != 0) rc = kError;
  } else {
    rc = lbe_tfl_invoke_bconv(ctx, node, op);
  }
  op->s->ns[op->index] += now_ns() - t0;
  if (op->s->probe && op->index == 0) probe_record(op->s, ctx, node, op);
  if (rc != kOk) ctx->ReportError(ctx, "lab-bnn engine: %s failed", OP_NAMES[op->kind]);
  return rc;
}
static int invoke(TfLiteContext *ctx, TfLiteNode *node) {
  op_t *op = node->user_data;
  return lbe_tfl_invoke_team(ctx, node, op, &op->s->team);
}
/* tflite::Subgraph::GetExecutionPlan and GetNodeAndRegistration (the static ones taking a TfLiteContext),
 * found in tflite-runtime's wrapper before the interpreter is built; either NULL: no teams. */
void lbe_tfl_session_read_plan(lbe_tfl_session *s, void *plan, void *node) {
  s->team.plan = (int (*)(TfLiteContext *, TfLiteIntArray **))plan;
  s->team.node = (int (*)(TfLiteContext *, int, TfLiteNode **, TfLiteRegistration **))node;
}

/* Registers the four Lce ops and our LabBnn* ops on a tflite::MutableOpResolver (`add_custom` is the address of
 * tflite::MutableOpResolver::AddCustom in tflite-runtime's wrapper) for `session`; ops the
 * interpreter then creates on this thread belong to it until lbe_tfl_constructed(). */
int lbe_tfl_register(void *resolver, void *add_custom, lbe_tfl_session *session) {
  static void *(*const inits[N_OPS])(TfLiteContext *, const char *, size_t) = {
      init_quantize, init_dequantize, init_bconv2d, init_bmaxpool2d, init_bconv2d_add, init_maxpool2d, init_mirror_pad, init_avgpool2d, init_depthwise, init_pack, init_sign,
      init_binary, init_reshape, init_strided_slice, init_pixel_chain};
  if (!resolver || !add_custom || !session) return kError;
  session->team.registered = invoke, session->team.one = invoke_one;
  for (int k = 0; k < N_OPS; k++) {
    TfLiteRegistration r;
    memset(&r, 0, sizeof r);
    r.init = inits[k]; r.free = op_free; r.prepare = prepare; r.invoke = invoke;
    r.builtin_code = kBuiltinCustom; r.custom_name = OP_NAMES[k]; r.version = 1;
    /* LabBnnReshape may share its input's buffer, as TFLite's RESHAPE (its invoke then copies nothing) */
    if (k == OP_RESHAPE) r.inplace_operator = kInplaceDataUnmodified | kInplaceInput0Shared;
    ((add_custom_fn)add_custom)(resolver, OP_NAMES[k], &r, 1);  /* the resolver copies r */
  }
  constructing = session;
  return kOk;
}
void lbe_tfl_constructed(void) { constructing = NULL; }
int lbe_tfl_struct_sizes(int64_t *out) {
  out[0] = sizeof(TfLiteTensor); out[1] = sizeof(TfLiteNode); out[2] = sizeof(TfLiteRegistration);
  out[3] = offsetof(TfLiteTensor, bytes); out[4] = offsetof(TfLiteTensor, name);
  return 5;
}
