/* Persistent worker pool: threads-1 workers plus the caller claim chunks of [0, n). Thread t starts on
 * the t-th contiguous part (so consecutive ops over the same pixels leave each thread reading what it
 * wrote itself, in its own cache), then claims chunks left in the others' parts, so a worker that the OS
 * has not scheduled yet (a 2-core host where other pools spin) holds nothing up: the caller does its work. Workers spin briefly for the next
 * job, then sleep on a condition variable. A shared pool instead hands each job to an interpreter's
 * pthreadpool (XNNPACK's): one set of threads for float and binary ops, so no pool's spinning workers
 * hold a core the other's need. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "lbe_internal.h"

/* ~2000 pauses ≈ 0.1 ms at ~140 cycles per pause (Skylake and later). Longer spinning catches the next
 * binary conv without a futex wake-up when a model runs alone (QuickNet 224² at 2 threads standalone:
 * 2.74 ms at 0.1 ms, 2.42 ms at 1 ms), but our spinning worker then takes the second core from XNNPACK's,
 * whose static split makes its caller wait: in engine_vs_lce at 2 threads 1 ms of spinning measured
 * QuickNet 3.37 -> 3.45 ms, Bi-RealNet 4.56 -> 5.26, LabBNN 4.56 -> 5.05, BoolNet 7.57 -> 10.92. */
#define LBE_SPIN_ROUNDS 2000
#define LBE_MAX_THREADS 64 /* more threads than this run as this many */

struct lbe_pool {
  int threads;
  /* Shared mode: an interpreter's own pthreadpool runs the jobs (no workers of ours). */
  void *pthreadpool;
  lbe_parallelize_1d parallelize;
  pthread_t *workers;
  pthread_mutex_t mutex;
  pthread_cond_t wake, done;
  /* Current job, published under the mutex with a new generation; workers join it only while open. */
  volatile int64_t generation;
  int open;
  int active; /* workers inside the current job; read by the caller's spin */
  int quit;
  lbe_task_fn fn;
  void *ctx;
  int64_t n, grain;
  /* Part t: [its first unclaimed index, end), a cache line each: each thread claims from its own part with an
   * atomic add, and parts sharing a line bounced it between the cores on every claim (~0.4 us a trip when a
   * VM's two vCPUs sit on different dies). */
  struct {
    _Alignas(64) int64_t next;
    int64_t end;
  } parts[LBE_MAX_THREADS];
};

typedef struct {
  lbe_pool *pool;
  int index;
} worker_arg;

static void claim_and_run(lbe_pool *pool, lbe_task_fn fn, void *ctx, int64_t n, int64_t grain, int thread) {
  (void)n;
  const int parts = pool->threads;
  for (int k = 0; k < parts; ++k) { /* own part first, then the others' leftovers */
    const int part = (thread + k) % parts;
    for (;;) {
      const int64_t begin = __atomic_fetch_add(&pool->parts[part].next, grain, __ATOMIC_RELAXED), end = pool->parts[part].end;
      if (begin >= end) break;
      fn(ctx, begin, begin + grain < end ? begin + grain : end, thread);
    }
  }
}

/* Contiguous parts of [0, n), one per thread, in whole chunks. */
static void set_parts(lbe_pool *pool, int64_t n, int64_t grain) {
  const int64_t chunks = (n + grain - 1) / grain;
  for (int t = 0; t < pool->threads; ++t) {
    const int64_t first = chunks * t / pool->threads * grain, last = chunks * (t + 1) / pool->threads * grain;
    __atomic_store_n(&pool->parts[t].next, first, __ATOMIC_RELAXED);
    pool->parts[t].end = last < n ? last : n;
  }
}

static void *worker_main(void *arg_) {
  worker_arg *arg = arg_;
  lbe_pool *pool = arg->pool;
  const int index = arg->index;
  free(arg);
  int64_t seen = 0;
  for (;;) {
    for (int spin = 0; spin < LBE_SPIN_ROUNDS && __atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE) == seen; ++spin)
      __builtin_ia32_pause();
    pthread_mutex_lock(&pool->mutex);
    while (pool->generation == seen && !pool->quit) pthread_cond_wait(&pool->wake, &pool->mutex);
    if (pool->quit) {
      pthread_mutex_unlock(&pool->mutex);
      return NULL;
    }
    seen = pool->generation;
    if (!pool->open) { /* the caller finished this job alone */
      pthread_mutex_unlock(&pool->mutex);
      continue;
    }
    __atomic_add_fetch(&pool->active, 1, __ATOMIC_ACQ_REL);
    lbe_task_fn fn = pool->fn;
    void *ctx = pool->ctx;
    const int64_t n = pool->n, grain = pool->grain;
    pthread_mutex_unlock(&pool->mutex);
    claim_and_run(pool, fn, ctx, n, grain, index);
    pthread_mutex_lock(&pool->mutex);
    if (__atomic_sub_fetch(&pool->active, 1, __ATOMIC_ACQ_REL) == 0) pthread_cond_signal(&pool->done);
    pthread_mutex_unlock(&pool->mutex);
  }
}

/* Zeroed and 64-byte aligned (the parts' cache lines). */
static lbe_pool *pool_alloc(void) {
  const size_t size = (sizeof(lbe_pool) + 63) / 64 * 64;
  lbe_pool *pool = aligned_alloc(64, size);
  if (pool) memset(pool, 0, size);
  return pool;
}

lbe_pool *lbe_pool_create(int threads) {
  if (threads < 1) return NULL;
  if (threads > LBE_MAX_THREADS) threads = LBE_MAX_THREADS;
  lbe_pool *pool = pool_alloc();
  if (!pool) return NULL;
  pool->threads = threads;
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->done, NULL);
  pool->workers = calloc((size_t)threads, sizeof(pthread_t));
  if (!pool->workers) {
    free(pool);
    return NULL;
  }
  for (int i = 1; i < threads; ++i) {
    worker_arg *arg = malloc(sizeof *arg);
    if (!arg) {
      pool->threads = i;
      break;
    }
    arg->pool = pool;
    arg->index = i;
    if (pthread_create(&pool->workers[i], NULL, worker_main, arg) != 0) {
      free(arg);
      pool->threads = i; /* run with the workers we got */
      break;
    }
  }
  return pool;
}

lbe_pool *lbe_pool_create_shared(void *pthreadpool, lbe_parallelize_1d parallelize, int threads) {
  if (!pthreadpool || !parallelize || threads < 2) return NULL;
  lbe_pool *pool = pool_alloc();
  if (!pool) return NULL;
  pool->threads = threads < LBE_MAX_THREADS ? threads : LBE_MAX_THREADS;
  pool->pthreadpool = pthreadpool;
  pool->parallelize = parallelize;
  return pool;
}

/* Item t of a shared job: slot t claims chunks as a worker of ours would (t < threads, one item per slot). */
static void shared_item(void *pool_, size_t slot) {
  lbe_pool *pool = pool_;
  claim_and_run(pool, pool->fn, pool->ctx, pool->n, pool->grain, (int)slot);
}

int lbe_pool_threads(const lbe_pool *pool) { return pool ? pool->threads : 1; }

static void nothing(void *context, size_t item) { (void)context, (void)item; }

/* A shared pool's workers go to sleep now: an empty job with pthreadpool's yield flag. The engine keeps
 * XNNPACK's workers awake between ops and calls (xnnpack_spin.c); this frees the core at once instead of
 * after their ~25 ms of spinning (EngineInterpreter.release_threads). Our own workers sleep after ~0.1 ms. */
void lbe_pool_yield(lbe_pool *pool) {
  if (pool && pool->pthreadpool)
    pool->parallelize(pool->pthreadpool, nothing, NULL, (size_t)pool->threads, PTHREADPOOL_FLAG_YIELD_WORKERS);
}

void lbe_pool_destroy(lbe_pool *pool) {
  if (!pool) return;
  if (pool->pthreadpool) { /* not ours to destroy */
    free(pool);
    return;
  }
  pthread_mutex_lock(&pool->mutex);
  pool->quit = 1;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  for (int i = 1; i < pool->threads; ++i) pthread_join(pool->workers[i], NULL);
  pthread_mutex_destroy(&pool->mutex);
  pthread_cond_destroy(&pool->wake);
  pthread_cond_destroy(&pool->done);
  free(pool->workers);
  free(pool);
}

void lbe_pool_run(lbe_pool *pool, lbe_task_fn fn, void *ctx, int64_t n) {
  if (n <= 0) return;
  if (!pool || pool->threads == 1 || n == 1) {
    fn(ctx, 0, n, 0);
    return;
  }
  /* About 4 chunks per thread: balance when every thread runs, little lost when one does not. */
  int64_t grain = n / (4 * (int64_t)pool->threads);
  grain = grain < 1 ? 1 : grain;
  if (pool->pthreadpool) {
    pool->fn = fn, pool->ctx = ctx, pool->n = n, pool->grain = grain;
    set_parts(pool, n, grain);
    pool->parallelize(pool->pthreadpool, shared_item, pool, (size_t)pool->threads, 0);
    return;
  }
  pthread_mutex_lock(&pool->mutex);
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n = n;
  pool->grain = grain;
  set_parts(pool, n, grain);
  pool->open = 1;
  __atomic_store_n(&pool->generation, pool->generation + 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  claim_and_run(pool, fn, ctx, n, grain, 0);
  pthread_mutex_lock(&pool->mutex); /* no worker joins after this; wait for those inside */
  pool->open = 0;
  pthread_mutex_unlock(&pool->mutex);
  for (int spin = 0; spin < LBE_SPIN_ROUNDS && __atomic_load_n(&pool->active, __ATOMIC_ACQUIRE) > 0; ++spin)
    __builtin_ia32_pause();
  pthread_mutex_lock(&pool->mutex);
  while (pool->active > 0) pthread_cond_wait(&pool->done, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
}
