/* Float32 ADD and MUL as the engine runs them in place of tflite-runtime's (float_ops.py): out = act(a op b),
 * where b repeats with a period (b's elements: n when the shapes are equal, 1 for a scalar, C for one value a
 * channel). One IEEE add or multiply per value, then TFLite's clamp, as XNNPACK does: the same bits at any
 * vector width. The operands commute exactly, so the broadcast one is always b. */
#include "lbe_internal.h"

typedef struct {
  const float *a, *b;
  float *out;
  int64_t n, period;
  int multiply, activation;
} binary_job;

enum { BINARY_UNIT = 4096, BINARY_SPLIT = 64 << 10 }; /* values a task; fewer than SPLIT run on the caller */

__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void binary_run(const float *a, const float *b, float *out, int64_t n, int multiply, int activation) {
  float lo, hi;
  lbe_activation_bounds(activation, &lo, &hi);
  for (int64_t i = 0; i < n; ++i) {
    float v = multiply ? a[i] * b[i] : a[i] + b[i];
    if (activation) {
      v = v < lo ? lo : v;
      v = v > hi ? hi : v;
    }
    out[i] = v;
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void binary_scalar(const float *a, float b, float *out, int64_t n, int multiply, int activation) {
  float lo, hi;
  lbe_activation_bounds(activation, &lo, &hi);
  for (int64_t i = 0; i < n; ++i) {
    float v = multiply ? a[i] * b : a[i] + b;
    if (activation) {
      v = v < lo ? lo : v;
      v = v > hi ? hi : v;
    }
    out[i] = v;
  }
}

/* Values [begin, end) in units: runs along b's period, each against the matching stretch of b. */
static void binary_units(void *ctx, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const binary_job *j = ctx;
  int64_t i = begin * BINARY_UNIT;
  const int64_t last = end * BINARY_UNIT < j->n ? end * BINARY_UNIT : j->n;
  if (j->period == 1) {
    binary_scalar(j->a + i, j->b[0], j->out + i, last - i, j->multiply, j->activation);
    return;
  }
  while (i < last) {
    const int64_t k = i % j->period, run = j->period - k < last - i ? j->period - k : last - i;
    binary_run(j->a + i, j->b + k, j->out + i, run, j->multiply, j->activation);
    i += run;
  }
}

int lbe_binary_f32(const float *a, const float *b, float *out, int64_t n, int64_t period, int multiply,
                   int activation, lbe_pool *pool) {
  if (!a || !b || !out || n < 0 || period < 1 || n % period || activation < 0 || activation > 3) return -1;
  binary_job job = {a, b, out, n, period, multiply != 0, activation};
  const int64_t units = (n + BINARY_UNIT - 1) / BINARY_UNIT;
  if (!lbe_pool_worth_splitting(pool, n, BINARY_SPLIT)) /* too little to wake a thread for */
    binary_units(&job, 0, units, 0);
  else
    lbe_pool_run(pool, binary_units, &job, units);
  return 0;
}
