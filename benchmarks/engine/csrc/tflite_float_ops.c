/* The float and data-movement ops float_ops.py hands the engine in place of tflite-runtime's, as TFLite nodes:
 * LabBnnBinary (a float32 ADD or MUL; options `operation` 0 ADD / 1 MUL and `fused_activation_function`),
 * LabBnnReshape (a RESHAPE whose output shape is static: a copy of bytes) and LabBnnStridedSlice (a
 * STRIDED_SLICE with constant int32 begin, end and strides >= 1, options `begin_mask` and `end_mask`, no
 * other mask). Small ones run on the caller: a converted BoolNet has ~50 of them between its binary convs, and
 * XNNPACK splits each one across its threads and pulls the maps between cores. */
#include "tflite_op.h"

int lbe_tfl_prepare_binary(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  const TfLiteTensor *a = tensor(ctx, node->inputs, 0), *b = tensor(ctx, node->inputs, 1);
  TfLiteTensor *out = tensor(ctx, node->outputs, 0);
  if (!a || !b || !a->dims || !b->dims || a->type != kFloat32 || b->type != kFloat32 || out->type != kFloat32)
    FAIL("lab-bnn engine: LabBnnBinary needs two float32 inputs and a float32 output");
  if (op->act < 0 || op->act > 3 || op->operation < 0 || op->operation > 1)
    FAIL("lab-bnn engine: LabBnnBinary operation %d (0 ADD, 1 MUL), fused activation %d (0-3)", (int)op->operation, (int)op->act);
  op->swap = elements(b) > elements(a); /* the broadcast operand goes second: ADD and MUL commute exactly */
  const TfLiteTensor *full = op->swap ? b : a, *part = op->swap ? a : b;
  const int fn = full->dims->size, pn = part->dims->size;
  int skip = 0;
  while (skip < pn && part->dims->data[skip] == 1) skip++;
  const int k = pn - skip; /* part's dimensions after its leading 1s: the last k of full's */
  if (pn > fn || memcmp(part->dims->data + skip, full->dims->data + fn - k, sizeof(int) * (size_t)k) != 0 || elements(part) < 1)
    FAIL("lab-bnn engine: LabBnnBinary broadcasts only a scalar or trailing dimensions (input ranks %d and %d)", a->dims->size, b->dims->size);
  op->period = elements(part);
  return set_dims(ctx, out, full->dims->data, fn);
}

int lbe_tfl_invoke_binary(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  const TfLiteTensor *a = tensor(ctx, node->inputs, 0), *b = tensor(ctx, node->inputs, 1);
  const TfLiteTensor *full = op->swap ? b : a, *part = op->swap ? a : b;
  return lbe_binary_f32(full->data, part->data, tensor(ctx, node->outputs, 0)->data, elements(full), op->period,
                        (int)op->operation, (int)op->act, op->pool) == 0 ? kOk : kError;
}

int lbe_tfl_prepare_reshape(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  (void)op;
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0), *out = tensor(ctx, node->outputs, 0);
  if (out->type != in->type || !out->dims || elements(out) != elements(in) || out->bytes != in->bytes)
    FAIL("lab-bnn engine: LabBnnReshape needs an output of its input's type and element count");
  return kOk;
}

int lbe_tfl_invoke_reshape(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  (void)op;
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0);
  TfLiteTensor *out = tensor(ctx, node->outputs, 0);
  if (out->data != in->data && in->bytes) memcpy(out->data, in->data, in->bytes);
  return kOk;
}

/* TFLite's begin and end for a positive stride: a masked begin is 0 and a masked end the size; a negative
 * index counts from the end; both are clamped to [0, size]. */
static int64_t resolve(int64_t index, int masked, int64_t fallback, int64_t size) {
  if (masked) return fallback;
  if (index < 0) index += size;
  return index < 0 ? 0 : index > size ? size : index;
}

int lbe_tfl_prepare_strided_slice(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0), *ends[3];
  const int n = in->dims->size;
  for (int i = 0; i < 3; i++) {
    ends[i] = tensor(ctx, node->inputs, 1 + i);
    if (!ends[i] || ends[i]->type != kInt32 || !ends[i]->data || ends[i]->bytes != sizeof(int32_t) * (size_t)n)
      FAIL("lab-bnn engine: LabBnnStridedSlice needs constant int32 begin, end and strides of %d values", n);
  }
  const int32_t *begin = ends[0]->data, *end = ends[1]->data, *stride = ends[2]->data;
  int od[8];
  for (int d = 0; d < n; d++) {
    const int64_t size = in->dims->data[d];
    if (stride[d] < 1) FAIL("lab-bnn engine: LabBnnStridedSlice stride %d of dim %d (at least 1)", stride[d], d);
    const int64_t start = resolve(begin[d], (int)(op->begin_mask >> d) & 1, 0, size);
    const int64_t stop = resolve(end[d], (int)(op->end_mask >> d) & 1, size, size);
    od[d] = stop > start ? (int)((stop - start + stride[d] - 1) / stride[d]) : 0;
    op->begin[d] = (int32_t)start;
    op->stride[d] = stride[d];
  }
  if (tensor(ctx, node->outputs, 0)->type != in->type) FAIL("lab-bnn engine: LabBnnStridedSlice output type differs from its input's");
  return set_dims(ctx, tensor(ctx, node->outputs, 0), od, n);
}

int lbe_tfl_invoke_strided_slice(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  const TfLiteTensor *in = tensor(ctx, node->inputs, 0);
  TfLiteTensor *out = tensor(ctx, node->outputs, 0);
  const int64_t count = elements(in);
  if (count < 1 || elements(out) < 1) return kOk;
  return lbe_strided_copy(in->data, out->data, in->dims->size, in->dims->data, op->begin, op->stride, out->dims->data,
                          (int32_t)(in->bytes / (size_t)count), op->pool) == 0 ? kOk : kError;
}
