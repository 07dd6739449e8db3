/* Microbenchmark: one thread's XOR+popcount peak at a level, operands in registers/L1. */
#include <time.h>
#include "lbe_internal.h"

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

/* Binary MACs per iteration of each level's loop: chains x vector bits. */
static double macs_per_iteration(int level) { return level == LBE_AVX512 ? 8 * 512 : level == LBE_AVX2 ? 4 * 256 : 4 * 64; }

double lbe_peak_binary_macs_per_second(int level, double seconds) {
  if (!lbe_level_supported(level) || (level == LBE_PORTABLE && !lbe_cpu_has_popcnt())) return -1.0;
  volatile double sink = 0;
  int64_t iterations = 1 << 12;
  for (;;) {
    const double start = now();
    sink += level == LBE_AVX512 ? lbe_peak_avx512(iterations) : level == LBE_AVX2 ? lbe_peak_avx2(iterations)
                                                                                 : peak_portable(iterations);
    const double elapsed = now() - start;
    if (elapsed >= seconds || iterations > ((int64_t)1 << 40))
      return elapsed > 0 ? iterations * macs_per_iteration(level) / elapsed : -1.0;
    iterations *= elapsed > 0 && seconds / elapsed < 16 ? 2 : 8;
  }
}
