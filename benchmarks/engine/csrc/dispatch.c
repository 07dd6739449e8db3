/* ABI version and run-time CPU level detection (libgcc's cpu model; no state of our own). */
#include "lbe_internal.h"

int lbe_abi_version(void) { return LBE_ABI_VERSION; }

int lbe_cpu_has_popcnt(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("popcnt");
}

int lbe_level_supported(int level) {
  __builtin_cpu_init();
  switch (level) {
    case LBE_PORTABLE:
      return 1;
    case LBE_AVX2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt");
    case LBE_AVX512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vpopcntdq") &&
             __builtin_cpu_supports("popcnt");
    default:
      return 0;
  }
}

int lbe_best_level(void) {
  for (int level = LBE_AVX512; level > LBE_PORTABLE; --level)
    if (lbe_level_supported(level)) return level;
  return LBE_PORTABLE;
}

const char *lbe_level_name(int level) {
  switch (level) {
    case LBE_PORTABLE:
      return "portable";
    case LBE_AVX2:
      return "avx2";
    case LBE_AVX512:
      return "avx512";
    default:
      return "unknown";
  }
}
