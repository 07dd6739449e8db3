/* LabBnnMultiSliceSign (sign_fusion.py) as a TFLite node: inputs x [..., C] (float32) and the constant
 * thresholds [slices * C]; outputs the +1/-1 floats [..., slices * C] and/or the packed words
 * [..., ceil(slices * C / 32)] (a float output comes first); options `slices` and `subtract`. */
#include "tflite_op.h"

int lbe_tfl_prepare_multi_slice_sign(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0), *thresholds = tensor(ctx, node->inputs, 1);
  const int n = in->dims->size;
  const int64_t width = (int64_t)in->dims->data[n - 1] * op->slices;
  if (in->type != kFloat32 || op->slices < 1 || op->subtract < 0 || op->subtract > 1 || width > (1 << 30))
    FAIL("lab-bnn engine: LabBnnMultiSliceSign needs a float32 input, slices >= 1 and subtract 0 or 1");
  if (!thresholds || thresholds->type != kFloat32 || !thresholds->data || thresholds->bytes != sizeof(float) * (size_t)width)
    FAIL("lab-bnn engine: LabBnnMultiSliceSign needs %d constant float thresholds", (int)width);
  if (node->outputs->size < 1 || node->outputs->size > 2) FAIL("lab-bnn engine: LabBnnMultiSliceSign has 1 or 2 outputs");
  int d[8];
  memcpy(d, in->dims->data, sizeof(int) * (size_t)n);
  for (int i = 0; i < node->outputs->size; i++) {
    TfLiteTensor *out = tensor(ctx, node->outputs, i);
    const int bits = out && out->type == kInt32;
    if (!out || (out->type != kFloat32 && !bits) || (i == 1 && !bits) || (i == 0 && node->outputs->size == 2 && bits))
      FAIL("lab-bnn engine: LabBnnMultiSliceSign outputs: float32 signs and/or int32 words, in that order");
    d[n - 1] = bits ? words(width) : (int)width;
    if (set_dims(ctx, out, d, n) != kOk) return kError;
  }
  return kOk;
}

int lbe_tfl_invoke_multi_slice_sign(TfLiteContext *ctx, TfLiteNode *node, op_t *op, int level) {
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0), *thresholds = tensor(ctx, node->inputs, 1);
  float *signs = NULL;
  int32_t *bits = NULL;
  for (int i = 0; i < node->outputs->size; i++) {
    TfLiteTensor *out = tensor(ctx, node->outputs, i);
    if (out->type == kInt32) bits = out->data;
    else signs = out->data;
  }
  const int32_t channels = in->dims->data[in->dims->size - 1];
  const int64_t pixels = channels ? elements(in) / channels : 0;
  return lbe_multi_slice_sign(in->data, thresholds->data, pixels, channels, (int32_t)op->slices, (int)op->subtract, signs,
                              bits, level, op->pool) == 0 ? kOk : kError;
}
