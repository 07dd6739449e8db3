/* Microbenchmark: one thread's XOR+popcount peak at a level, operands in registers/L1; the fastest of
 * many 1 ms chunks, so preempted chunks on a busy host do not lower it. */
#include <stdlib.h>
#include <time.h>
#include "lbe_internal.h"

/* Short chunks: on a busy host some of them run without being preempted. */
#define CHUNK_SECONDS 0.001

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

LBE_TARGET_POPCNT static double peak_portable(int64_t iterations) {
  uint64_t f = 0x0123456789abcdefull, x[4] = {1, 2, 3, 4}, a[4] = {0, 0, 0, 0};
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 4; ++i) a[i] += (uint64_t)__builtin_popcountll(f ^ x[i]);
    __asm__ volatile("" : "+r"(f));
  }
  return (double)(a[0] + a[1] + a[2] + a[3]);
}

/* Vector levels: the level's own bconv row kernel on an L1-resident 1x1 conv (8 pixels x 2048
 * channels in, 32 out: 10 KB of operands), so the peak is the inner loop without memory effects. */
static double kernel_peak(int level, double seconds) {
  enum { PIXELS = 8, CIN = 2048, COUT = 32 };
  lbe_bconv2d_params p = {1, 1, PIXELS, CIN, 1, PIXELS, COUT, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, LBE_OUT_FLOAT, 0, 1.0f, 0};
  int32_t *filter = malloc(sizeof(int32_t) * COUT * (CIN / 32)), *input = malloc(sizeof(int32_t) * PIXELS * (CIN / 32));
  int32_t acc[PIXELS * COUT];
  float ones[COUT];
  for (int i = 0; i < COUT; ++i) ones[i] = 1.0f;
  if (!filter || !input) return free(filter), free(input), -1.0;
  for (int i = 0; i < COUT * (CIN / 32); ++i) filter[i] = (int32_t)(0x9e3779b9u * (uint32_t)(i + 1));
  for (int i = 0; i < PIXELS * (CIN / 32); ++i) input[i] = (int32_t)(0x85ebca6bu * (uint32_t)(i + 7));
  lbe_bconv2d *c = lbe_bconv2d_create(&p, level, filter, ones, ones, NULL, NULL, 0);
  double rate = -1.0;
  if (c) {
    const lbe_row_fn row = level == LBE_AVX512 ? lbe_row_avx512 : lbe_row_avx2;
    int64_t calls = 16; /* grow one chunk to >= CHUNK_SECONDS, then keep the fastest chunk */
    for (double total = 0, chunk = 0; total < seconds;) {
      const double start = now();
      for (int64_t i = 0; i < calls; ++i) row(c, input, PIXELS, 0, acc);
      chunk = now() - start;
      total += chunk;
      if (chunk < CHUNK_SECONDS && calls < ((int64_t)1 << 40)) {
        calls *= 2;
        continue;
      }
      const double r = (double)calls * PIXELS * CIN * COUT / chunk;
      rate = r > rate ? r : rate;
    }
    if (rate < 0) {
      const double start = now();
      for (int64_t i = 0; i < calls; ++i) row(c, input, PIXELS, 0, acc);
      rate = (double)calls * PIXELS * CIN * COUT / (now() - start);
    }
    lbe_bconv2d_destroy(c);
  }
  free(filter);
  free(input);
  return rate;
}

double lbe_peak_binary_macs_per_second(int level, double seconds) {
  if (!lbe_level_supported(level) || (level == LBE_PORTABLE && !lbe_cpu_has_popcnt())) return -1.0;
  if (level != LBE_PORTABLE) return kernel_peak(level, seconds);
  volatile double sink = 0;
  double rate = -1.0;
  int64_t iterations = 1 << 10;
  for (double total = 0, chunk = 0; total < seconds;) {
    const double start = now();
    sink += peak_portable(iterations);
    chunk = now() - start;
    total += chunk;
    if (chunk < CHUNK_SECONDS && iterations < ((int64_t)1 << 40)) {
      iterations *= 2;
      continue;
    }
    const double r = iterations * 4.0 * 64 / chunk;
    rate = r > rate ? r : rate;
  }
  if (rate < 0) {
    const double start = now();
    sink += peak_portable(iterations);
    rate = iterations * 4.0 * 64 / (now() - start);
  }
  return rate;
}
