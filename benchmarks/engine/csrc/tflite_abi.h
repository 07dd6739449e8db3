/* A hand-declared subset of TF 2.14's tensorflow/lite/core/c/common.h (non-TF_LITE_STATIC_MEMORY layout), the
 * only TFLite the engine knows: tflite_adapter.c reads these structs by offset, so the layout must match the
 * pinned tflite-runtime wheel exactly; benchmarks/engine/tflite_abi.py checks it with a probe model at start-up
 * and refuses on any mismatch. */
#ifndef LBE_TFLITE_ABI_H
#define LBE_TFLITE_ABI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct { int size; int data[]; } TfLiteIntArray;
typedef struct { float scale; int32_t zero_point; } TfLiteQuantizationParams;
typedef struct { int type; void *params; } TfLiteQuantization;
typedef struct {
  int type;                          /* TfLiteType */
  void *data;                        /* TfLitePtrUnion */
  TfLiteIntArray *dims;
  TfLiteQuantizationParams params;
  int allocation_type;
  size_t bytes;
  const void *allocation;
  const char *name;
  void *delegate;
  int buffer_handle;
  bool data_is_stale, is_variable;
  TfLiteQuantization quantization;
  void *sparsity;
  const TfLiteIntArray *dims_signature;
} TfLiteTensor;
typedef struct {
  TfLiteIntArray *inputs, *outputs, *intermediates, *temporaries;
  void *user_data, *builtin_data;
  const void *custom_initial_data;
  int custom_initial_data_size;
  void *delegate;
  bool might_have_side_effect;
} TfLiteNode;
typedef struct TfLiteContext TfLiteContext;
struct TfLiteContext {
  size_t tensors_size;
  int (*GetExecutionPlan)(TfLiteContext *, TfLiteIntArray **);
  TfLiteTensor *tensors;
  void *impl_;
  int (*ResizeTensor)(TfLiteContext *, TfLiteTensor *, TfLiteIntArray *);
  void (*ReportError)(TfLiteContext *, const char *, ...);
  /* later members unused */
};
typedef struct {
  void *(*init)(TfLiteContext *, const char *, size_t);
  void (*free)(TfLiteContext *, void *);
  int (*prepare)(TfLiteContext *, TfLiteNode *);
  int (*invoke)(TfLiteContext *, TfLiteNode *);
  const char *(*profiling_string)(const TfLiteContext *, const TfLiteNode *);
  int32_t builtin_code;
  const char *custom_name;
  int version;
  void *registration_external, *async_kernel;
  uint64_t inplace_operator;
} TfLiteRegistration;
enum { kOk = 0, kError = 1 };
enum { kNoType = 0, kFloat32 = 1, kInt32 = 2, kInt64 = 4, kBool = 6, kInt8 = 9 };
enum { kBuiltinCustom = 32 };
enum { kInplaceDataUnmodified = 1, kInplaceInput0Shared = 4 }; /* TfLiteInPlaceOp (2 scopes sharing to OutputN) */
typedef void (*add_custom_fn)(void *resolver, const char *name, const TfLiteRegistration *reg, int version);
#endif
