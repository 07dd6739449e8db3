/* Reads an integer from a FlexBuffers map (LCE's custom op options) without the flatbuffers library. */
#include <string.h>
#include "lbe_internal.h"

static uint64_t rd_u(const uint8_t *p, int w) {
  uint64_t v = 0;
  for (int i = w - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static int64_t rd_i(const uint8_t *p, int w) {
  uint64_t v = rd_u(p, w);
  if (w < 8 && (v >> (8 * w - 1))) v |= ~(uint64_t)0 << (8 * w);
  return (int64_t)v;
}
/* 1 and *out set if `key` maps to an integer; 0 otherwise (absent or malformed). */
int lbe_flex_int(const uint8_t *b, size_t n, const char *key, int64_t *out) {
  if (!b || n < 3) return 0;
  int root_w = b[n - 1], packed = b[n - 2];
  if ((root_w != 1 && root_w != 2 && root_w != 4 && root_w != 8) || (packed >> 2) != 9 || n < 2u + root_w) return 0;
  size_t root = n - 2 - root_w;
  int w = 1 << (packed & 3);
  uint64_t off = rd_u(b + root, root_w);
  if (off > root || root - off < 3u * w) return 0;
  size_t map = root - off;
  uint64_t size = rd_u(b + map - w, w), keys_w = rd_u(b + map - 2 * w, w);
  uint64_t koff = rd_u(b + map - 3 * w, w);
  if (koff > map - 3 * w || map + size * (w + 1) > n || (keys_w != 1 && keys_w != 2 && keys_w != 4 && keys_w != 8)) return 0;
  size_t keys = map - 3 * w - koff;
  for (uint64_t i = 0; i < size; i++) {
    size_t kp = keys + i * keys_w;
    if (kp + keys_w > n) return 0;
    uint64_t ko = rd_u(b + kp, (int)keys_w);
    if (ko > kp) return 0;
    const char *k = (const char *)b + (kp - ko);
    if (strnlen(k, n - (kp - ko)) == n - (kp - ko) || strcmp(k, key) != 0) continue;
    int t = b[map + size * w + i], type = t >> 2;
    const uint8_t *v = b + map + i * w;
    if (type == 1) { *out = rd_i(v, w); return 1; }
    if (type == 2 || type == 26) { *out = (int64_t)rd_u(v, w); return 1; }
    if (type == 6 || type == 7) {  /* indirect: offset back to a value of width 1<<(t&3) */
      uint64_t o = rd_u(v, w);
      size_t at = (size_t)(v - b);
      if (o > at) return 0;
      *out = type == 6 ? rd_i(b + at - o, 1 << (t & 3)) : (int64_t)rd_u(b + at - o, 1 << (t & 3));
      return 1;
    }
    return 0;
  }
  return 0;
}
