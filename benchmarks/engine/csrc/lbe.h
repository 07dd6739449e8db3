/* lab-bnn engine: x86 kernels for LCE's binary ops (plain C interface).
 * Semantics follow larq-compute-engine v0.16.0's reference kernels exactly
 * (bit 1 = negative, LSB first, channels packed in int32 words, NHWC).
 * No global mutable state except the once-initialised CPU level table. */
#ifndef LBE_H
#define LBE_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#define LBE_ABI_VERSION 1

enum lbe_level { LBE_PORTABLE = 0, LBE_AVX2 = 1, LBE_AVX512 = 2 };  /* AVX512 = F+BW+VPOPCNTDQ */
enum lbe_output { LBE_OUT_FLOAT = 0, LBE_OUT_INT8 = 1, LBE_OUT_BITPACKED = 2 };

int lbe_abi_version(void);
/* Best level this CPU supports; lbe_level_supported(l) for each. */
int lbe_best_level(void);
int lbe_level_supported(int level);
const char *lbe_level_name(int level);  /* "portable", "avx2", "avx512" */

typedef struct lbe_pool lbe_pool;       /* persistent worker threads */
lbe_pool *lbe_pool_create(int threads); /* threads >= 1; 1 = run in caller */
void lbe_pool_destroy(lbe_pool *pool);

typedef struct {
  int32_t batch, in_h, in_w, channels_in;     /* channels_in: real (unpacked) channel count */
  int32_t out_h, out_w, channels_out;
  int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left;                  /* from TFLite's SAME rule; 0 for VALID */
  int32_t zero_padding;                       /* 1: SAME with pad_values 0 (an outside tap adds (channels_in/groups)/2) */
  int32_t groups;
  int32_t output;                             /* enum lbe_output */
  int32_t activation;                         /* TFLite fused activation: 0 none, 1 relu, 2 relu_n1_to_1, 3 relu6 */
  float output_scale; int32_t output_zero_point;  /* int8 output only */
} lbe_bconv2d_params;

/* Prepared conv: filter repacked once (OHWI int32 words in), output transform folded. */
typedef struct lbe_bconv2d lbe_bconv2d;
lbe_bconv2d *lbe_bconv2d_create(const lbe_bconv2d_params *p, int level,
                                const int32_t *filter_ohwi_words,
                                const float *multiplier, const float *bias,  /* [channels_out] or NULL (bitpacked out) */
                                const int32_t *thresholds,                  /* [channels_out] or NULL (float/int8 out) */
                                char *error, size_t error_len);
/* input: [batch, in_h, in_w, ceil(channels_in/32)] int32 words; output float / int8 /
 * int32 words [.., ceil(channels_out/32)]. Output rows (batch*out_h) split across the pool. */
int lbe_bconv2d_run(const lbe_bconv2d *conv, const int32_t *input, void *output, lbe_pool *pool);
/* The integer accumulators Σ popcount(in ^ filter) (+ zero-padding count), [N,OH,OW,Cout] int32: for exact tests. */
int lbe_bconv2d_accumulators(const lbe_bconv2d *conv, const int32_t *input, int32_t *accumulators, lbe_pool *pool);
void lbe_bconv2d_destroy(lbe_bconv2d *conv);

/* LceQuantize float -> words (x < 0 -> bit 1), LceDequantize words -> float (+1 / -1); `pixels` = product of leading dims. */
void lbe_quantize_f32(const float *in, int32_t *out, int64_t pixels, int32_t channels, int level);
void lbe_dequantize_f32(const int32_t *in, float *out, int64_t pixels, int32_t channels);
/* LceBMaxPool2d: bitwise AND over each window's in-bounds pixels. */
void lbe_bmaxpool2d(const int32_t *in, int32_t *out, int32_t batch, int32_t in_h, int32_t in_w, int32_t words,
                    int32_t out_h, int32_t out_w, int32_t filter_h, int32_t filter_w,
                    int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left);

/* Added after ABI 1's first draft (appended only): peak XOR+popcount rate of one thread at `level`,
 * operands in L1, timed for at least `seconds`; binary MACs (bits) per second, or -1 if unsupported. */
double lbe_peak_binary_macs_per_second(int level, double seconds);
/* Appended: a float-output conv followed by a residual ADD, out = act(transform(acc) + residual),
 * applied per output segment while it is in cache (residual has the output's shape; activation as
 * TFLite's: 0 none, 1 relu, 2 relu_n1_to_1, 3 relu6). -1 unless the conv's output is float. */
int lbe_bconv2d_run_add(const lbe_bconv2d *conv, const int32_t *input, float *output, const float *residual,
                        int activation, lbe_pool *pool);
void lbe_add_act_f32(float *y, const float *r, int64_t n, int activation);
/* Appended: lbe_bconv2d_run_add that also writes LceQuantize of its output to `bits` ([.., ceil(channels_out/32)]
 * int32 words, as lbe_quantize_f32 packs them), each thread its own pixels while they are in its cache. */
int lbe_bconv2d_run_add_quantize(const lbe_bconv2d *conv, const int32_t *input, float *output, const float *residual,
                                 int activation, int32_t *bits, lbe_pool *pool);

/* Appended: float MAX_POOL_2D (TFLite's, padding ignored; fused activation as TFLite's codes, NONE unclamped):
 * [batch, in_h, in_w, channels] -> [batch, out_h, out_w, channels]. 0, or -1 for a bad argument. */
typedef struct {
  int32_t batch, in_h, in_w, channels, out_h, out_w;
  int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
  int32_t activation;
} lbe_pool2d_params;
int lbe_maxpool2d_f32(const float *in, float *out, const lbe_pool2d_params *p, int level, lbe_pool *pool);
/* Appended: float AVERAGE_POOL_2D with XNNPACK's arithmetic (its bits) for windows of at most 9 pixels inside the
 * input (pad_top = pad_left = 0); -1 for anything else. */
int lbe_avgpool2d_f32(const float *in, float *out, const lbe_pool2d_params *p, int level, lbe_pool *pool);
/* Appended: MIRROR_PAD of a rank-`rank` tensor of `element_bytes`-byte elements; pads[2d], pads[2d+1] before and
 * after dim d; symmetric 0 = REFLECT, 1 = SYMMETRIC (TFLite's MirrorPadMode). 0, or -1 for a bad argument. */
int lbe_mirror_pad(const void *in, void *out, int rank, const int32_t *dims, const int64_t *pads, int symmetric,
                   int32_t element_bytes);
/* Appended: lbe_bconv2d_run_add with, when given, TFLite's PRELU after the ADD (y >= 0 ? y : y * alpha[channel],
 * alpha: [channels_out]) and LceQuantize of the result into `bits` (NULL: none). */
int lbe_bconv2d_run_fused(const lbe_bconv2d *conv, const int32_t *input, float *output, const float *residual,
                          int activation, const float *alpha, int32_t *bits, lbe_pool *pool);
/* Appended: TFLite's PRELU in place over [pixels, channels]: y >= 0 ? y : y * alpha[channel] (NaN: y * alpha). */
void lbe_prelu_f32(float *y, const float *alpha, int64_t pixels, int32_t channels);
/* Appended: lbe_quantize_f32 split across the pool's threads (contiguous pixel ranges) when there are at least
 * 64 Ki values, else on the caller. */
void lbe_quantize_f32_pool(const float *in, int32_t *out, int64_t pixels, int32_t channels, int level, lbe_pool *pool);
/* Appended: LceDequantize at a level (lbe_dequantize_f32 is the portable one). */
void lbe_dequantize_f32_at(const int32_t *in, float *out, int64_t pixels, int32_t channels, int level);
/* Appended: DEPTHWISE_CONV_2D (float32, depth multiplier 1) with XNNPACK's arithmetic (its bits): filter
 * [kernel_h][kernel_w][channels], bias [channels] or NULL (zeros), activation as TFLite's codes 0-3. Writes the
 * floats to `out` and/or LceQuantize of them to `bits` (either may be NULL). 0, or -1 for a bad argument. */
typedef struct {
  int32_t batch, in_h, in_w, channels, out_h, out_w;
  int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int32_t activation;
} lbe_depthwise_params;
int lbe_depthwise_f32(const float *in, const float *filter, const float *bias, float *out, int32_t *bits,
                      const lbe_depthwise_params *p, int level, lbe_pool *pool);
/* Appended: PACK of n inputs of `outer` x `inner_bytes` bytes each into out[outer][n][inner_bytes] (TFLite's PACK:
 * outer is the product of the dimensions before the axis); split across the pool from 256 KiB. 0, or -1. */
int lbe_pack(const void *const *inputs, int n, void *out, int64_t outer, int64_t inner_bytes, lbe_pool *pool);
/* Appended: the link between the first two CPUs the calling thread may run on: median round trip of a cache
 * line bounced between two pinned threads (ns) and the rate at which 1 MiB written on one is read on the
 * other (bytes/s). The caller's affinity is restored. 0, or -1 (fewer than two CPUs, no thread). */
int lbe_core_link(double *round_trip_ns, double *handoff_bytes_per_second);
/* Appended: BoolNet's multi-slice sign (TILE of `slices` copies along the channels, ADD or SUB (subtract != 0) of
 * thresholds [slices * channels], LceQuantize): the packed bits into `bits` and/or their LceDequantize (+1/-1
 * floats, [pixels][slices * channels]) into `signs` (either may be NULL, not both). 0, or -1. */
int lbe_multi_slice_sign(const float *x, const float *thresholds, int64_t pixels, int32_t channels, int32_t slices,
                         int subtract, float *signs, int32_t *bits, int level, lbe_pool *pool);

/* Appended: float32 ADD (multiply 0) or MUL (1) with TFLite's fused activation 0-3: out[i] = act(a[i] op
 * b[i % period]), n a multiple of period (the shapes equal: n; a scalar: 1; one value a channel: C). Split across
 * the pool from 64 Ki values. 0, or -1 for a bad argument. */
int lbe_binary_f32(const float *a, const float *b, float *out, int64_t n, int64_t period, int multiply,
                   int activation, lbe_pool *pool);
/* Appended: out = in[begin_d + i_d * stride_d] over out_dims (rank 1-8, strides >= 1), elements of
 * `element_bytes` bytes: STRIDED_SLICE's copy once its begin and strides are resolved. 0, or -1 for a bad
 * argument (including a slice reaching outside the input). */
int lbe_strided_copy(const void *in, void *out, int rank, const int32_t *in_dims, const int32_t *begin,
                     const int32_t *stride, const int32_t *out_dims, int32_t element_bytes, lbe_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
