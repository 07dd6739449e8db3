/* Runs of consecutive engine ops in one thread team. At 2 threads each op's pthreadpool job cost ~0.3 us of
 * dispatch (a futex wake by the caller and one by the worker's check-in) on top of the op's own work, and a
 * converted BNN has dozens of small engine ops in a row (BoolNet 64²: ~40 parallel jobs in ~0.2 ms). The first
 * engine op of a run in the execution plan (the leader) holds the pool's threads in one job (lbe_pool_team)
 * and invokes the ops after it itself; each then finds itself already run when TFLite calls it. Only ops with
 * nothing else in the plan between them join, so no other node runs between their usual times and the arena
 * memory TFLite planned for that order is used in the same order. */
#include "tflite_op.h"

enum { kDynamic = 4 }; /* TfLiteAllocationType: kTfLiteDynamic */

/* The node at plan entry `index` if it is an engine op of the leader's session whose outputs live in the arena
 * (a dynamic output would need TFLite's allocation between ops), else NULL. */
static TfLiteNode *engine_node(TfLiteContext *ctx, int index, const op_t *leader, const lbe_tfl_teams *f) {
  TfLiteNode *node;
  TfLiteRegistration *reg;
  if (f->node(ctx, index, &node, &reg) != kOk || reg->invoke != f->registered || !node->user_data ||
      ((const op_t *)node->user_data)->s != leader->s)
    return NULL;
  for (int i = 0; i < node->outputs->size; i++) {
    const TfLiteTensor *t = tensor(ctx, node->outputs, i);
    if (!t || t->allocation_type == kDynamic) return NULL;
  }
  return node;
}

/* At an op's first invoke after Prepare (the plan is final by then): the engine ops right after it in the
 * plan, if it is the first of a run. */
static void find_followers(TfLiteContext *ctx, TfLiteNode *node, op_t *op, const lbe_tfl_teams *f) {
  op->team_checked = 1;
  free(op->followers);
  op->followers = NULL, op->followers_n = 0;
  TfLiteIntArray *plan;
  if (f->plan(ctx, &plan) != kOk) return;
  int at = 0;
  for (; at < plan->size; at++) {
    TfLiteNode *n;
    TfLiteRegistration *r;
    if (f->node(ctx, plan->data[at], &n, &r) == kOk && n == node) break;
  }
  if (at == plan->size || !engine_node(ctx, plan->data[at], op, f) || (at > 0 && engine_node(ctx, plan->data[at - 1], op, f)))
    return;
  if (!(op->followers = malloc(sizeof(TfLiteNode *) * (size_t)plan->size))) return;
  for (int i = at + 1; i < plan->size; i++) {
    TfLiteNode *follower = engine_node(ctx, plan->data[i], op, f);
    if (!follower) break;
    op->followers[op->followers_n++] = follower;
  }
}

typedef struct {
  TfLiteContext *ctx;
  TfLiteNode *node;
  lbe_tfl_teams *f;
  int rc;
} lead_t;

static void lead(void *p) {
  lead_t *l = p;
  const op_t *op = l->node->user_data;
  l->f->runs++, l->f->ops++;
  l->rc = l->f->one(l->ctx, l->node);
  for (int i = 0; i < op->followers_n && l->rc == kOk; i++) {
    TfLiteNode *follower = op->followers[i];
    l->rc = l->f->one(l->ctx, follower);
    if (l->rc == kOk) ((op_t *)follower->user_data)->ran_early = 1, l->f->ops++;
  }
}

int lbe_tfl_invoke_team(TfLiteContext *ctx, TfLiteNode *node, op_t *op, lbe_tfl_teams *f) {
  if (op->ran_early) { /* its leader ran it in this invoke; a stale mark is renewed before TFLite gets here */
    op->ran_early = 0;
    f->early++;
    return kOk;
  }
  if (f->plan && f->node && lbe_pool_threads(op->pool) > 1) {
    if (!op->team_checked) find_followers(ctx, node, op, f);
    lead_t l = {ctx, node, f, kOk};
    if (op->followers_n > 0 && lbe_pool_team(op->pool, lead, &l) == 0) return l.rc;
  }
  return f->one(ctx, node);
}
