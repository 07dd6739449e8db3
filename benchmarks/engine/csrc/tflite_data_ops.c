/* The data-movement ops fusion.py hands the engine, as TFLite nodes: LabBnnMirrorPad (a MIRROR_PAD with
 * constant paddings; option `mode`: 0 REFLECT, 1 SYMMETRIC) and LabBnnPack (a PACK; options `axis`, already
 * non-negative, and `values_count`). Both move bytes, so any element type gives TFLite's bits. */
#include <stdlib.h>

#include "tflite_op.h"

int lbe_tfl_prepare_mirror_pad(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  TfLiteTensor *in = tensor(ctx, node->inputs, 0), *out = tensor(ctx, node->outputs, 0);
  const TfLiteTensor *pads = tensor(ctx, node->inputs, 1);
  const int n = in->dims->size, *d = in->dims->data;
  if (n > 8 || !pads || !pads->data || (pads->type != kInt32 && pads->type != kInt64) || !pads->dims || pads->dims->size != 2 || pads->dims->data[0] != n || pads->dims->data[1] != 2)
    FAIL("lab-bnn engine: LabBnnMirrorPad needs constant int32/int64 paddings of shape [%d, 2]", n);
  if (out->type != in->type || op->mode < 0 || op->mode > 1) FAIL("lab-bnn engine: LabBnnMirrorPad output type %d (input %d), mode %d (0 REFLECT, 1 SYMMETRIC)", out->type, in->type, (int)op->mode);
  for (int i = 0; i < 2 * n; i++) {
    op->pads[i] = pads->type == kInt32 ? ((const int32_t *)pads->data)[i] : ((const int64_t *)pads->data)[i];
    const int64_t limit = d[i / 2] - (op->mode == 1 ? 0 : 1);
    if (op->pads[i] < 0 || op->pads[i] > limit) FAIL("lab-bnn engine: LabBnnMirrorPad padding %d of dim %d (size %d) is outside [0, %d]", (int)op->pads[i], i / 2, d[i / 2], (int)limit);
  }
  int od[8];
  for (int i = 0; i < n; i++) od[i] = d[i] + (int)(op->pads[2 * i] + op->pads[2 * i + 1]);
  return set_dims(ctx, out, od, n);
}

int lbe_tfl_invoke_mirror_pad(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0);
  TfLiteTensor *out = tensor(ctx, node->outputs, 0);
  const int64_t count = elements(in);
  if (count < 1) return kError;
  return lbe_mirror_pad(in->data, out->data, in->dims->size, in->dims->data, op->pads, (int)op->mode, (int32_t)(in->bytes / (size_t)count)) == 0 ? kOk : kError;
}

enum { MAX_PACKED = 64 }; /* inputs of one LabBnnPack (fusion.py replaces no PACK with more) */

int lbe_tfl_prepare_pack(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  TfLiteTensor *in = tensor(ctx, node->inputs, 0), *out = tensor(ctx, node->outputs, 0);
  const int n = in->dims->size, count = node->inputs->size;
  if (n > 7 || op->axis < 0 || op->axis > n || count < 1 || count > MAX_PACKED) FAIL("lab-bnn engine: LabBnnPack of %d inputs of rank %d along axis %d (1-%d inputs, rank at most 7, axis in [0, rank])", count, n, (int)op->axis, MAX_PACKED);
  for (int i = 1; i < count; i++) {
    const TfLiteTensor *t = tensor(ctx, node->inputs, i);
    if (!t || t->type != in->type || !t->dims || t->dims->size != n || memcmp(t->dims->data, in->dims->data, sizeof(int) * (size_t)n))
      FAIL("lab-bnn engine: LabBnnPack input %d differs from input 0 in type or shape", i);
  }
  if (out->type != in->type) FAIL("lab-bnn engine: LabBnnPack output type %d (input %d)", out->type, in->type);
  int od[8];
  for (int i = 0, j = 0; i <= n; i++) od[i] = i == op->axis ? count : in->dims->data[j++];
  return set_dims(ctx, out, od, n + 1);
}

int lbe_tfl_invoke_pack(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0);
  TfLiteTensor *out = tensor(ctx, node->outputs, 0);
  const void *inputs[MAX_PACKED];
  for (int i = 0; i < node->inputs->size; i++) inputs[i] = tensor(ctx, node->inputs, i)->data;
  int64_t outer = 1, count = elements(in);
  for (int i = 0; i < op->axis; i++) outer *= in->dims->data[i];
  if (count < 1) return kOk;
  const int64_t inner_bytes = (int64_t)in->bytes / outer;
  return lbe_pack(inputs, node->inputs->size, out->data, outer, inner_bytes, op->pool) == 0 ? kOk : kError;
}
