/* LceBconv2d and fusion.py's LabBnnBconv2dAdd inside tflite-runtime: the conv from the node's tensors and
 * options (lbe_tfl_bconv_create, which a pixel chain that runs a conv unit by unit also uses), the output
 * shapes, and the run. */
#include "tflite_op.h"

int lbe_tfl_bconv_create(TfLiteContext *ctx, const op_t *op, int level, const TfLiteTensor *in, const TfLiteTensor *filter,
                         const TfLiteTensor *mul, const TfLiteTensor *bias, const TfLiteTensor *thr, const TfLiteTensor *out,
                         lbe_bconv2d **conv, lbe_bconv2d_params *params) {
  if (!in || !in->dims || in->dims->size != 4 || in->type != kInt32) FAIL("lab-bnn engine: LceBconv2d needs a 4-D int32 input");
  if (!filter || filter->type != kInt32 || filter->dims->size != 4 || !filter->data) FAIL("lab-bnn engine: LceBconv2d needs a constant 4-D int32 filter");
  lbe_bconv2d_params p = {0};
  const int *d = in->dims->data, *f = filter->dims->data;
  p.batch = d[0]; p.in_h = d[1]; p.in_w = d[2]; p.channels_in = (int32_t)op->channels_in;
  p.channels_out = f[0]; p.kernel_h = f[1]; p.kernel_w = f[2];
  p.stride_h = (int32_t)op->stride_h; p.stride_w = (int32_t)op->stride_w;
  p.dilation_h = (int32_t)op->dil_h; p.dilation_w = (int32_t)op->dil_w;
  if (words(p.channels_in) != d[3] || f[3] < 1 || d[3] % f[3]) FAIL("lab-bnn engine: LceBconv2d channels_in %d does not fit input words %d and filter words %d", p.channels_in, d[3], f[3]);
  p.groups = d[3] / f[3];
  out_and_pad(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, op->padding, &p.out_h, &p.pad_top);
  out_and_pad(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, op->padding, &p.out_w, &p.pad_left);
  p.zero_padding = op->padding == 0 && op->pad_values == 0;
  p.activation = (int32_t)op->act;
  p.output = !out ? LBE_OUT_FLOAT : out->type == kFloat32 ? LBE_OUT_FLOAT : out->type == kInt8 ? LBE_OUT_INT8 : out->type == kInt32 ? LBE_OUT_BITPACKED : -1;
  if (p.output < 0) FAIL("lab-bnn engine: LceBconv2d output type %d (float32, int8 or int32)", out->type);
  if (out) p.output_scale = out->params.scale, p.output_zero_point = out->params.zero_point;
  const float *m = mul && mul->type == kFloat32 ? mul->data : NULL, *bi = bias && bias->type == kFloat32 ? bias->data : NULL;
  const int32_t *th = thr && thr->type == kInt32 ? thr->data : NULL;
  if (p.output == LBE_OUT_BITPACKED ? !th : (!m || !bi)) FAIL("lab-bnn engine: LceBconv2d lacks constant %s", p.output == LBE_OUT_BITPACKED ? "thresholds" : "multiplier/bias");
  if (p.output != LBE_OUT_BITPACKED && (mul->bytes != sizeof(float) * (size_t)p.channels_out || bias->bytes != sizeof(float) * (size_t)p.channels_out))
    FAIL("lab-bnn engine: LceBconv2d needs %d multipliers and biases", p.channels_out);
  char err[256] = "";
  lbe_bconv2d_destroy(*conv);
  *conv = lbe_bconv2d_create(&p, level, filter->data, m, bi, th, err, sizeof err);
  if (!*conv) FAIL("lab-bnn engine: LceBconv2d: %s", err);
  *params = p;
  return kOk;
}

int lbe_tfl_prepare_bconv(TfLiteContext *ctx, TfLiteNode *node, op_t *op, int level) {
  TfLiteTensor *in = tensor(ctx, node->inputs, 0), *out = tensor(ctx, node->outputs, 0);
  lbe_bconv2d_params p;
  if (lbe_tfl_bconv_create(ctx, op, level, in, tensor(ctx, node->inputs, 1), tensor(ctx, node->inputs, 2), tensor(ctx, node->inputs, 3),
                           tensor(ctx, node->inputs, 4), out, &op->conv, &p) != kOk)
    return kError;
  int od[4] = {p.batch, p.out_h, p.out_w, p.output == LBE_OUT_BITPACKED ? words(p.channels_out) : p.channels_out};
  int rc = set_dims(ctx, out, od, 4);
  const int fused = op->kind == OP_BCONV2D_ADD;
  TfLiteTensor *r = tensor(ctx, node->inputs, 5);
  if (fused && (p.output != LBE_OUT_FLOAT || !r || r->type != kFloat32 || !r->dims || r->dims->size != 4 || memcmp(r->dims->data, od, sizeof od) || op->add_act < 0 || op->add_act > 3)) FAIL("lab-bnn engine: LabBnnBconv2dAdd needs a float output, a float residual of its shape and add_activation 0-3");
  TfLiteTensor *alpha = fused ? tensor(ctx, node->inputs, 6) : NULL;
  if (alpha) { /* fusion.py's seventh input: the absorbed PRELU's slopes, one per channel */
    int64_t count = 1;
    for (int i = 0; alpha->dims && i < alpha->dims->size; i++) count *= alpha->dims->data[i];
    if (alpha->type != kFloat32 || !alpha->data || count != p.channels_out) FAIL("lab-bnn engine: LabBnnBconv2dAdd's PRELU needs %d constant float slopes", p.channels_out);
  }
  TfLiteTensor *bits = fused ? tensor(ctx, node->outputs, 1) : NULL;
  if (bits) { /* fusion.py's second output: LceQuantize of the first */
    if (bits->type != kInt32) FAIL("lab-bnn engine: LabBnnBconv2dAdd's quantized output type %d (int32)", bits->type);
    int bd[4] = {p.batch, p.out_h, p.out_w, words(p.channels_out)};
    if (rc == kOk) rc = set_dims(ctx, bits, bd, 4);
  }
  return rc;
}

int lbe_tfl_invoke_bconv(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0), *out = tensor(ctx, node->outputs, 0);
  const int fused = op->kind == OP_BCONV2D_ADD;
  const TfLiteTensor *r = fused ? tensor(ctx, node->inputs, 5) : NULL, *bits = fused ? tensor(ctx, node->outputs, 1) : NULL;
  const TfLiteTensor *alpha = fused ? tensor(ctx, node->inputs, 6) : NULL;
  return (r ? lbe_bconv2d_run_fused(op->conv, in->data, out->data, r->data, (int)op->add_act, alpha ? alpha->data : NULL,
                                    bits ? bits->data : NULL, op->pool)
            : lbe_bconv2d_run(op->conv, in->data, out->data, op->pool)) == 0
             ? kOk
             : kError;
}
