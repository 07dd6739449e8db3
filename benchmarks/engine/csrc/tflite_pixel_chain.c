/* LabBnnPixelChain (pixel_chains.py): a run of ops that each work pixel by pixel, run a few pixels at a time.
 * Input 0 is the program (int32): MAGIC, pixels, slots, steps; per slot (where, position, bytes); then per step
 * (kind, argument count, arguments). A slot is a node input (position >= 1) or output with `bytes` a pixel, a
 * per-thread scratch row block, or a whole input (`bytes` in all: a broadcast operand, thresholds). Prepare
 * checks every slot and step against the tensors, so a wrong program fails there, never reads out of bounds.
 * Each unit of pixels goes through every step on one thread; steps call the kernels the ops run alone. A chain may
 * start with a float-output LceBconv2d (the node's options are the conv's), computed unit by unit: a unit is then
 * whole rows of its output, the conv's output rows read while still in cache, and one hand-over between threads
 * for the conv and the ops after it. */
#include "tflite_op.h"

enum { MAGIC = 0x4C504331, HEADER = 4, MAX_SLOTS = 256, MAX_STEPS = 256, MAX_ARGS = 80 };
enum { IN = 0, OUT = 1, SCRATCH = 2, WHOLE = 3, WHOLE_OUT = 4 };
enum { SIGN = 0, QUANTIZE = 1, BINARY = 2, COPY = 3, STRIDED = 4, PACK = 5, MIRROR = 6, CONV = 7 };
enum { UNIT_BYTES = 64 << 10, SPLIT_BYTES = 32 << 10 }; /* bytes a unit touches; below SPLIT in all: one thread */

typedef struct {
  int where, position;
  int64_t bytes, offset; /* offset: scratch slots, of this slot's unit of rows within a thread's block */
} slot_t;
typedef struct {
  int kind, n;
  int32_t a[MAX_ARGS];
} step_t;
struct lbe_pixel_chain {
  int64_t pixels, pixel_bytes, unit, scratch_bytes; /* pixel_bytes: of every row slot; scratch_bytes: a thread's */
  int slots, steps, threads, level;
  slot_t slot[MAX_SLOTS];
  step_t step[MAX_STEPS];
  char *base[MAX_SLOTS]; /* data pointers, set at each invoke */
  char *scratch;
  lbe_bconv2d *conv; /* the CONV step's, made at Prepare */
};

void lbe_pixel_chain_free(lbe_pixel_chain *c) {
  if (c) free(c->scratch), lbe_bconv2d_destroy(c->conv);
  free(c);
}

#define BAD(...) do { ctx->ReportError(ctx, "lab-bnn engine: LabBnnPixelChain " __VA_ARGS__); return kError; } while (0)

/* a * b, or -1 when either is negative or the product passes 2^62: sizes from the program never wrap. */
static int64_t product(int64_t a, int64_t b) {
  int64_t p;
  return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &p) || p > ((int64_t)1 << 62) ? -1 : p;
}

/* Checks step k's arguments against the slots' sizes: every read and write stays inside its slot, and steps
 * write only outputs and scratch (never an input, which may be a read-only constant). */
static int check_step(TfLiteContext *ctx, const lbe_pixel_chain *c, const step_t *s, int k) {
  const int32_t *a = s->a;
  const int n = s->n;
#define SLOT(i) (a[i] >= 0 && a[i] < c->slots)
#define ROW(i) (c->slot[a[i]].bytes)
#define PIXEL(i) (SLOT(i) && c->slot[a[i]].where < WHOLE)
#define DEST(i) (SLOT(i) && (c->slot[a[i]].where == OUT || c->slot[a[i]].where == SCRATCH))
  if (s->kind == SIGN) {
    if (n != 7 || !PIXEL(0) || !SLOT(1) || c->slot[a[1]].where != WHOLE || a[2] < 1 || a[3] < 1 || ROW(0) % product(4, a[2]))
      BAD("step %d: bad multi-slice sign", k);
    const int64_t vectors = ROW(0) / product(4, a[2]), width = product(a[2], a[3]);
    if (ROW(1) != product(4, width) || (a[5] < 0 && a[6] < 0) || (a[5] >= 0 && (!DEST(5) || ROW(5) != product(vectors, product(4, width)))) ||
        (a[6] >= 0 && (!DEST(6) || ROW(6) != product(vectors, 4 * ((width + 31) / 32)))))
      BAD("step %d: multi-slice sign sizes", k);
  } else if (s->kind == QUANTIZE) {
    if (n != 3 || !PIXEL(0) || !DEST(1) || a[2] < 1 || ROW(0) % product(4, a[2]) ||
        ROW(1) != product(ROW(0) / product(4, a[2]), 4 * (((int64_t)a[2] + 31) / 32)))
      BAD("step %d: bad quantize", k);
  } else if (s->kind == BINARY) { /* operand 1: rows a pixel like operand 0, or a whole input repeating every a[4] values */
    if (n != 7 || !PIXEL(0) || !SLOT(1) || c->slot[a[1]].where > WHOLE || !DEST(2) || a[3] < 1 || a[4] < 1 || a[3] % a[4] ||
        a[5] < 0 || a[5] > 1 || a[6] < 0 || a[6] > 3 || ROW(0) != product(4, a[3]) || ROW(2) != ROW(0) ||
        ROW(1) != (c->slot[a[1]].where == WHOLE ? product(4, a[4]) : ROW(0)))
      BAD("step %d: bad add/multiply", k);
  } else if (s->kind == COPY) {
    if (n != 2 || !PIXEL(0) || !DEST(1) || ROW(0) != ROW(1)) BAD("step %d: bad copy", k);
  } else if (s->kind == STRIDED) {
    const int r = n >= 3 ? a[2] : -1;
    if (r < 1 || r > 5 || n != 4 + 4 * r || !PIXEL(0) || !DEST(1)) BAD("step %d: bad strided slice", k);
    const int32_t *in = a + 3, *begin = in + r, *stride = begin + r, *out = stride + r, item = a[3 + 4 * r];
    int64_t in_elems = 1, out_elems = 1;
    for (int d = 0; d < r; d++) {
      if (in[d] < 1 || out[d] < 1 || stride[d] < 1 || begin[d] < 0 || (int64_t)begin[d] + (int64_t)(out[d] - 1) * stride[d] >= in[d])
        BAD("step %d: strided slice outside its input", k);
      in_elems = product(in_elems, in[d]), out_elems = product(out_elems, out[d]);
    }
    if (item < 1 || ROW(0) != product(in_elems, item) || ROW(1) != product(out_elems, item)) BAD("step %d: strided slice sizes", k);
  } else if (s->kind == PACK) {
    const int count = n >= 2 ? a[1] : -1;
    if (count < 1 || count > 64 || n != 4 + count || !DEST(0) || a[2 + count] < 1 || a[3 + count] < 1) BAD("step %d: bad pack", k);
    const int64_t inner = product(a[2 + count], a[3 + count]);
    for (int i = 0; i < count; i++)
      if (!PIXEL(2 + i) || ROW(2 + i) != inner) BAD("step %d: pack input %d size", k, i);
    if (ROW(0) != product(count, inner)) BAD("step %d: pack output size", k);
  } else if (s->kind == MIRROR) {
    const int64_t h = n == 9 ? a[2] : 0, w = n == 9 ? a[3] : 0;
    if (n != 9 || !PIXEL(0) || !SLOT(1) || c->slot[a[1]].where != WHOLE_OUT || h < 1 || w < 1 || c->pixels % product(h, w) ||
        a[8] < 0 || a[8] > 1)
      BAD("step %d: bad mirror pad", k);
    for (int i = 4; i < 8; i++) /* REFLECT pads at most the size - 1, SYMMETRIC the size */
      if (a[i] < 0 || a[i] > (i < 6 ? h : w) - (a[8] == 0)) BAD("step %d: mirror pad of %d outside its map", k, a[i]);
    const int64_t maps = c->pixels / product(h, w), padded = product(h + a[4] + a[5], w + a[6] + a[7]);
    if (ROW(1) != product(product(maps, padded), ROW(0))) BAD("step %d: mirror pad output size", k);
  } else if (s->kind == CONV) { /* input words, output rows, filter, multiplier, bias; sizes checked at Prepare */
    if (n != 5 || !SLOT(0) || c->slot[a[0]].where != WHOLE || !DEST(1) || !SLOT(2) || !SLOT(3) || !SLOT(4) ||
        c->slot[a[2]].where != WHOLE || c->slot[a[3]].where != WHOLE || c->slot[a[4]].where != WHOLE || k != 0)
      BAD("step %d: bad conv (the first step, of whole inputs into rows a pixel)", k);
  } else {
    BAD("step %d: unknown kind %d", k, s->kind);
  }
  return kOk;
#undef SLOT
#undef ROW
#undef PIXEL
#undef DEST
}

int lbe_tfl_prepare_pixel_chain(TfLiteContext *ctx, TfLiteNode *node, op_t *op, int level) {
  const TfLiteTensor *program = tensor(ctx, node->inputs, 0);
  if (!program || program->type != kInt32 || !program->data || program->bytes < HEADER * sizeof(int32_t)) BAD("needs a constant int32 program");
  const int32_t *w = program->data, *end = w + program->bytes / sizeof(int32_t);
  if (w[0] != MAGIC || w[1] < 1 || w[2] < 1 || w[2] > MAX_SLOTS || w[3] < 1 || w[3] > MAX_STEPS) BAD("program header %d %d %d %d", w[0], w[1], w[2], w[3]);
  lbe_pixel_chain *c = op->chain ? op->chain : calloc(1, sizeof *c);
  if (!c) return kError;
  op->chain = c;
  c->pixels = w[1], c->slots = w[2], c->steps = w[3], c->threads = lbe_pool_threads(op->pool), c->level = level;
  w += HEADER;
  if (end - w < 3 * c->slots) BAD("program ends inside its slots");
  int64_t pixel_bytes = 0, scratch_row = 0;
  for (int i = 0; i < c->slots; i++, w += 3) {
    slot_t *s = &c->slot[i];
    s->where = w[0], s->position = w[1], s->bytes = w[2];
    const TfLiteTensor *t = s->where == OUT || s->where == WHOLE_OUT ? tensor(ctx, node->outputs, s->position)
                            : s->where == IN || s->where == WHOLE ? (s->position >= 1 ? tensor(ctx, node->inputs, s->position) : NULL)
                                                                  : NULL;
    if (s->where < IN || s->where > WHOLE_OUT || s->bytes < 1 || s->bytes > ((int64_t)1 << 40) || (s->where != SCRATCH && !t))
      BAD("slot %d (where %d, position %d) has no tensor", i, s->where, s->position);
    const int64_t bytes = s->where >= WHOLE ? s->bytes : s->bytes * c->pixels;
    if (s->where != SCRATCH && t->bytes != (size_t)bytes)
      BAD("slot %d: tensor of %zu bytes, program says %lld", i, t->bytes, (long long)bytes);
    if (s->where < WHOLE) pixel_bytes += s->bytes;
  }
  for (int k = 0; k < c->steps; k++) {
    step_t *s = &c->step[k];
    if (end - w < 2 || w[1] < 0 || w[1] > MAX_ARGS || end - w < 2 + w[1]) BAD("program ends inside step %d", k);
    s->kind = w[0], s->n = w[1];
    memcpy(s->a, w + 2, sizeof(int32_t) * (size_t)s->n);
    w += 2 + s->n;
    if (check_step(ctx, c, s, k) != kOk) return kError;
  }
  if (w != end) BAD("program has %d words after its last step", (int)(end - w));
  c->pixel_bytes = pixel_bytes;
  c->unit = UNIT_BYTES / pixel_bytes > 1 ? UNIT_BYTES / pixel_bytes : 1;
  if (c->threads > 1) { /* two units a thread at least: each takes its own rows */
    const int64_t most = (c->pixels + 2 * c->threads - 1) / (2 * c->threads);
    c->unit = c->unit < most ? c->unit : most;
  }
  if (c->step[0].kind == CONV) {
    const int32_t *a = c->step[0].a;
    lbe_bconv2d_params p;
    if (lbe_tfl_bconv_create(ctx, op, level, tensor(ctx, node->inputs, c->slot[a[0]].position), tensor(ctx, node->inputs, c->slot[a[2]].position),
                             tensor(ctx, node->inputs, c->slot[a[3]].position), tensor(ctx, node->inputs, c->slot[a[4]].position), NULL, NULL,
                             &c->conv, &p) != kOk)
      return kError;
    if (product(product(p.batch, p.out_h), p.out_w) != c->pixels || c->slot[a[1]].bytes != product(4, p.channels_out))
      BAD("step 0: a conv of %d x %d x %d x %d floats for %lld pixels of %lld bytes", p.batch, p.out_h, p.out_w, p.channels_out,
          (long long)c->pixels, (long long)c->slot[a[1]].bytes);
    if (lbe_bconv2d_reserve_threads(c->conv, c->threads) != 0) BAD("could not allocate the conv's workspaces");
    c->unit = c->unit > p.out_w ? c->unit / p.out_w * p.out_w : p.out_w; /* whole rows of the conv's output */
  }
  /* A thread's scratch: each scratch slot's rows for one unit, one block after another. */
  for (int i = 0; i < c->slots; i++)
    if (c->slot[i].where == SCRATCH) c->slot[i].offset = scratch_row, scratch_row += (c->slot[i].bytes * c->unit + 63) / 64 * 64;
  free(c->scratch); /* Prepare runs again after a resize: sizes may change */
  c->scratch = scratch_row ? aligned_alloc(64, (size_t)(scratch_row * c->threads)) : NULL;
  c->scratch_bytes = scratch_row;
  if (scratch_row && !c->scratch) BAD("could not allocate %lld bytes of scratch", (long long)(scratch_row * c->threads));
  return kOk;
}

/* The padded positions (at most 3) that copy position y of a map of `size` padded by `before` and `after`: its
 * own, and its image in each border. REFLECT (mode 0): leading position i copies before - i, trailing position
 * before + size + k copies size - 2 - k; SYMMETRIC (mode 1): before - 1 - i and size - 1 - k. */
static int images(int64_t y, int64_t size, int64_t before, int64_t after, int mode, int64_t *at) {
  int n = 0;
  at[n++] = before + y;
  const int64_t lead = before - mode - y, trail = size - 2 + mode - y;
  if (lead >= 0 && lead < before) at[n++] = lead;
  if (trail >= 0 && trail < after) at[n++] = before + size + trail;
  return n;
}

/* The mirror pad step: every pixel of the unit to each padded position that copies it (a[2..8]: H, W, top, bottom,
 * left, right, mode); a border position copies exactly one pixel, so units write disjoint bytes. */
static void mirror_pad_rows(const lbe_pixel_chain *c, const int32_t *a, const char *in, char *out, int64_t first, int64_t count) {
  const int64_t h = a[2], w = a[3], ph = h + a[4] + a[5], pw = w + a[6] + a[7], row = c->slot[a[0]].bytes;
  for (int64_t q = first; q < first + count; q++, in += row) {
    int64_t rows[3], cols[3];
    const int64_t image = q / (h * w), y = q / w % h, x = q % w;
    const int nr = images(y, h, a[4], a[5], a[8], rows), nc = images(x, w, a[6], a[7], a[8], cols);
    for (int i = 0; i < nr; i++)
      for (int j = 0; j < nc; j++) memcpy(out + ((image * ph + rows[i]) * pw + cols[j]) * row, in, (size_t)row);
  }
}

/* Pixels [first, first + count) through every step on `thread`. */
static void run_unit(const lbe_pixel_chain *c, int64_t first, int64_t count, int thread) {
  char *at[MAX_SLOTS];
  for (int i = 0; i < c->slots; i++) {
    const slot_t *s = &c->slot[i];
    at[i] = s->where == SCRATCH ? c->scratch + thread * c->scratch_bytes + s->offset
            : s->where >= WHOLE ? c->base[i]
                                : c->base[i] + first * s->bytes;
  }
  for (int k = 0; k < c->steps; k++) {
    const step_t *s = &c->step[k];
    const int32_t *a = s->a;
    if (s->kind == CONV) {
      const int32_t width = c->conv->p.out_w; /* units are whole rows of it (Prepare) */
      lbe_bconv2d_run_rows(c->conv, (const int32_t *)at[a[0]], (float *)at[a[1]], first / width, count / width, thread);
    } else if (s->kind == SIGN) {
      const int64_t vectors = count * (c->slot[a[0]].bytes / (4 * a[2]));
      lbe_multi_slice_sign((const float *)at[a[0]], (const float *)at[a[1]], vectors, a[2], a[3], a[4],
                           a[5] >= 0 ? (float *)at[a[5]] : NULL, a[6] >= 0 ? (int32_t *)at[a[6]] : NULL, c->level, NULL);
    } else if (s->kind == QUANTIZE) {
      lbe_quantize_f32((const float *)at[a[0]], (int32_t *)at[a[1]], count * (c->slot[a[0]].bytes / (4 * a[2])), a[2], c->level);
    } else if (s->kind == BINARY) {
      const int64_t n = count * a[3];
      lbe_binary_f32((const float *)at[a[0]], (const float *)at[a[1]], (float *)at[a[2]], n,
                     c->slot[a[1]].where == WHOLE ? a[4] : n, a[5], a[6], NULL);
    } else if (s->kind == COPY) {
      memcpy(at[a[1]], at[a[0]], (size_t)(count * c->slot[a[0]].bytes));
    } else if (s->kind == STRIDED) {
      const int r = a[2];
      int32_t in[6], begin[6] = {0}, stride[6] = {1}, out[6];
      in[0] = out[0] = (int32_t)count;
      for (int d = 0; d < r; d++) in[1 + d] = a[3 + d], begin[1 + d] = a[3 + r + d], stride[1 + d] = a[3 + 2 * r + d], out[1 + d] = a[3 + 3 * r + d];
      lbe_strided_copy(at[a[0]], at[a[1]], r + 1, in, begin, stride, out, a[3 + 4 * r], NULL);
    } else if (s->kind == MIRROR) {
      mirror_pad_rows(c, a, at[a[0]], at[a[1]], first, count);
    } else {
      const void *inputs[64];
      for (int i = 0; i < a[1]; i++) inputs[i] = at[a[2 + i]];
      lbe_pack(inputs, a[1], at[a[0]], count * a[2 + a[1]], a[3 + a[1]], NULL);
    }
  }
}

static void run_units(void *ctx, int64_t begin, int64_t end, int thread) {
  const lbe_pixel_chain *c = ctx;
  for (int64_t u = begin; u < end; u++) {
    const int64_t first = u * c->unit, count = first + c->unit < c->pixels ? c->unit : c->pixels - first;
    run_unit(c, first, count, thread);
  }
}

int lbe_tfl_invoke_pixel_chain(TfLiteContext *ctx, TfLiteNode *node, op_t *op) {
  lbe_pixel_chain *c = op->chain;
  if (!c) return kError;
  for (int i = 0; i < c->slots; i++) {
    const slot_t *s = &c->slot[i];
    const TfLiteTensor *t = s->where == OUT || s->where == WHOLE_OUT ? tensor(ctx, node->outputs, s->position)
                            : s->where == SCRATCH ? NULL : tensor(ctx, node->inputs, s->position);
    c->base[i] = t ? t->data : NULL;
  }
  const int64_t units = (c->pixels + c->unit - 1) / c->unit;
  if (c->conv || lbe_pool_worth_splitting(op->pool, c->pixels * c->pixel_bytes, SPLIT_BYTES)) /* a conv always splits */
    lbe_pool_run(op->pool, run_units, c, units);
  else
    run_units(c, 0, units, 0);
  return kOk;
}
