/* Persistent worker pool: threads-1 workers plus the caller claim chunks of [0, n). Thread t starts on
 * the t-th contiguous part (so consecutive ops over the same pixels leave each thread reading what it
 * wrote itself, in its own cache), then claims chunks left in the others' parts, so a worker that the OS
 * has not scheduled yet (a 2-core host where other pools spin) holds nothing up: the caller does its work. Workers spin briefly for the next
 * job, then sleep on a condition variable. A shared pool instead hands each job to an interpreter's
 * pthreadpool (XNNPACK's): one set of threads for float and binary ops, so no pool's spinning workers
 * hold a core the other's need. */
#include <pthread.h>
#include <sched.h>
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
  /* Team (lbe_pool_team): the open job's number (0 between jobs, TEAM_OVER at the end) on the line with
   * the job it publishes, so a spinning worker gets both in one transfer. */
  _Alignas(64) int64_t job;
  lbe_task_fn fn;
  void *ctx;
  int64_t n, grain;
  int in_team;            /* the caller is inside lbe_pool_team */
  int requested;          /* threads asked for: a team needs one pthreadpool item per thread */
  int64_t jobs;           /* team jobs opened so far (the caller's) */
  int64_t jobs_at_reset, taken_over; /* at lbe_pool_team_counts_reset; worker parts the caller ran since */
  lbe_team_fn lead;
  void *lead_ctx;
  /* Part t: [its first unclaimed index, end), a cache line each: each thread claims from its own part with an
   * atomic add, and parts sharing a line bounced it between the cores on every claim (~0.4 us a trip when a
   * VM's two vCPUs sit on different dies). */
  struct {
    _Alignas(64) int64_t next;
    int64_t end;
  } parts[LBE_MAX_THREADS];
  /* Team worker t's lines: the job it is done with, whether it ran its part and parts it ran (read by the caller
   * after every job); the job it took (read only when the worker is late, so its store stays in its cache). */
  struct {
    _Alignas(64) int64_t finished, parts;
    int ran;
    _Alignas(64) int64_t taken;
  } seat[LBE_MAX_THREADS];
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

/* Part t of [0, n) split into `threads` contiguous parts of whole chunks: [*first, *end). */
static void part_bounds(int64_t n, int64_t grain, int threads, int t, int64_t *first, int64_t *end) {
  const int64_t chunks = (n + grain - 1) / grain, last = chunks * (t + 1) / threads * grain;
  *first = chunks * t / threads * grain;
  *end = last < n ? last : n;
}

static void set_parts(lbe_pool *pool, int64_t n, int64_t grain) {
  for (int t = 0; t < pool->threads; ++t) {
    int64_t first;
    part_bounds(n, grain, pool->threads, t, &first, &pool->parts[t].end);
    __atomic_store_n(&pool->parts[t].next, first, __ATOMIC_RELAXED);
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
  pool->requested = threads;
  pool->pthreadpool = pthreadpool;
  pool->parallelize = parallelize;
  return pool;
}

/* Item t of a shared job: slot t claims chunks as a worker of ours would (t < threads, one item per slot). */
static void shared_item(void *pool_, size_t slot) {
  lbe_pool *pool = pool_;
  claim_and_run(pool, pool->fn, pool->ctx, pool->n, pool->grain, (int)slot);
}

/* ---- teams: one pthreadpool job (a futex wake by the caller, one by the worker's check-in, ~0.3 us at 2 threads
 * here) for a run of ops; inside it each lbe_pool_run costs a cache line out and one back. Item 0, the caller,
 * runs `lead`; the other items spin for jobs until TEAM_OVER. Parts are static (no claiming: stealing at the end
 * of every small job moved the parts' lines between the cores twice). The caller waits for a worker's part as
 * long as its own took plus LATE_TICKS (~3 us of TSC here; a running worker is done by then); a worker later than
 * that may not be running at all (another process on its core), so the caller closes the job and reads which job
 * the worker took, the worker having said so before it re-read `job` (both sequentially consistent): either the
 * caller waits for the worker, or the worker sees the job closed and the caller runs that part itself. Only then
 * does the caller read the line the worker's claim is on, so on time the claim stays in the worker's cache and
 * the job is never closed (the next one replaces it): 1-2 % faster than closing and checking every job (BoolNet
 * 64², 2 threads, link near and far). One stopped after it took a job is waited for, and both loops yield the core
 * after SPINS pauses (more threads than cores: the thread waited for may be queued behind the one waiting). */
enum { TEAM_OVER = -1, SPINS = 4096, LATE_TICKS = 8192 };

static void pause_or_yield(int *spins) {
  if (++*spins < SPINS) __builtin_ia32_pause();
  else sched_yield();
}

/* Part t of the open job, in chunks as lbe_pool_run's, on `thread`. */
static void run_part(lbe_pool *pool, int t, int thread) {
  int64_t first, end;
  part_bounds(pool->n, pool->grain, pool->threads, t, &first, &end);
  for (int64_t begin = first; begin < end; begin += pool->grain)
    pool->fn(pool->ctx, begin, begin + pool->grain < end ? begin + pool->grain : end, thread);
}

/* Worker t's part of `job` done: by the worker, or by the caller if the worker had not taken the job when the
 * caller, past `deadline` (TSC), closed it. */
static void await_part(lbe_pool *pool, int t, int64_t job, uint64_t deadline) {
  int spins = 0;
  while (__atomic_load_n(&pool->seat[t].finished, __ATOMIC_ACQUIRE) != job) {
    if (__builtin_ia32_rdtsc() > deadline) {
      __atomic_store_n(&pool->job, 0, __ATOMIC_SEQ_CST);
      if (__atomic_load_n(&pool->seat[t].taken, __ATOMIC_SEQ_CST) != job) break;
      while (__atomic_load_n(&pool->seat[t].finished, __ATOMIC_ACQUIRE) != job) pause_or_yield(&spins);
      break;
    }
    pause_or_yield(&spins);
  }
  if (__atomic_load_n(&pool->seat[t].finished, __ATOMIC_ACQUIRE) != job || !pool->seat[t].ran) {
    run_part(pool, t, 0);
    pool->taken_over++;
  }
}

static void team_run(lbe_pool *pool, lbe_task_fn fn, void *ctx, int64_t n, int64_t grain) {
  pool->fn = fn, pool->ctx = ctx, pool->n = n, pool->grain = grain;
  const int64_t job = ++pool->jobs;
  const uint64_t start = __builtin_ia32_rdtsc();
  __atomic_store_n(&pool->job, job, __ATOMIC_RELEASE);
  run_part(pool, 0, 0);
  const uint64_t now = __builtin_ia32_rdtsc();
  for (int t = 1; t < pool->threads; ++t) await_part(pool, t, job, now + (now - start) + LATE_TICKS);
}

static void team_worker(lbe_pool *pool, int thread) {
  int spins = 0;
  for (int64_t seen = 0;;) {
    const int64_t job = __atomic_load_n(&pool->job, __ATOMIC_ACQUIRE);
    if (job == TEAM_OVER) return;
    if (job == 0 || job == seen) {
      pause_or_yield(&spins);
      continue;
    }
    seen = job, spins = 0;
    __atomic_store_n(&pool->seat[thread].taken, job, __ATOMIC_SEQ_CST);
    const int ran = __atomic_load_n(&pool->job, __ATOMIC_SEQ_CST) == job;
    if (ran) run_part(pool, thread, thread), pool->seat[thread].parts++;
    pool->seat[thread].ran = ran;
    __atomic_store_n(&pool->seat[thread].finished, job, __ATOMIC_RELEASE);
  }
}

/* pthreadpool hands each of its threads (the interpreter's count, which lbe_pool_team checks is ours) its own
 * item first and lets none steal before its own is done, so item 0 runs on the caller, and a worker's loop ends
 * only after item 0 has said TEAM_OVER. */
static void team_item(void *pool_, size_t item) {
  lbe_pool *pool = pool_;
  if (item != 0) {
    team_worker(pool, (int)item);
    return;
  }
  pool->in_team = 1;
  pool->lead(pool->lead_ctx);
  pool->in_team = 0;
  __atomic_store_n(&pool->job, TEAM_OVER, __ATOMIC_RELEASE);
}

int lbe_pool_team(lbe_pool *pool, lbe_team_fn lead, void *ctx) {
  if (!pool || !pool->pthreadpool || pool->threads < 2 || pool->requested != pool->threads || pool->in_team || !lead)
    return -1;
  pool->lead = lead, pool->lead_ctx = ctx;
  __atomic_store_n(&pool->job, 0, __ATOMIC_RELAXED); /* published by pthreadpool's release of the job */
  pool->parallelize(pool->pthreadpool, team_item, pool, (size_t)pool->threads, 0);
  return 0;
}

/* counts[0..2]: team jobs, worker parts the workers ran, worker parts the caller ran (since the last reset). */
void lbe_pool_team_counts(const lbe_pool *pool, int64_t *counts) {
  counts[0] = counts[1] = counts[2] = 0;
  if (!pool) return;
  counts[0] = pool->jobs - pool->jobs_at_reset, counts[2] = pool->taken_over;
  for (int t = 1; t < pool->threads; ++t) counts[1] += __atomic_load_n(&pool->seat[t].parts, __ATOMIC_ACQUIRE);
}
void lbe_pool_team_counts_reset(lbe_pool *pool) {
  if (!pool || pool->in_team) return;
  pool->jobs_at_reset = pool->jobs, pool->taken_over = 0;
  for (int t = 1; t < pool->threads; ++t) __atomic_store_n(&pool->seat[t].parts, 0, __ATOMIC_RELEASE);
}

int lbe_pool_threads(const lbe_pool *pool) { return pool ? pool->threads : 1; }
/* Inside a team a split costs a cache line out and one back (~0.15 us) instead of a pthreadpool job's wake-ups
 * (~0.3 us plus the worker's check-in), so ops split from a quarter of the size they need outside one: BoolNet
 * 64² at 2 threads 1% faster (1/2/4/8/16: 208.6/207.4/206.3/206.5/206.6 us, one process, link near). */
enum { TEAM_SPLIT_DIVISOR = 4 };

int lbe_pool_worth_splitting(const lbe_pool *pool, int64_t amount, int64_t threshold) {
  if (!pool || pool->threads < 2) return 0;
  return amount >= (pool->in_team ? threshold / TEAM_SPLIT_DIVISOR : threshold);
}

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
  if (pool->in_team) {
    team_run(pool, fn, ctx, n, grain);
    return;
  }
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
