/* Microbenchmark of the link between the first two CPUs this process may run on: the round trip of one
 * cache line bounced between two pinned threads, and the time for 1 MiB written on one to be read on the
 * other. Two-thread speed-ups ride on it (every op hands its output from thread to thread); on a VM the
 * host may place the two vCPUs on one die or on two, and the link then changes by ~4x within minutes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lbe_internal.h"

enum { BATCHES = 5, ROUND_TRIPS = 4000, HANDOFFS = 16, HANDOFF_BYTES = 1 << 20 };
#define GIVE_UP_SECONDS 1.0 /* a wait this long means the other thread cannot run: no measurement */

typedef struct {
  _Alignas(64) int64_t turn; /* odd: the partner's move, even: the caller's; -1: give up */
  _Alignas(64) unsigned char *buffer;
  int64_t last;
} link_job;

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* 0 once `turn` is `value` (acquire: the other side's writes before it are visible), -1 on giving up. */
static int wait_for(link_job *j, int64_t value) {
  const double deadline = seconds() + GIVE_UP_SECONDS;
  for (unsigned spin = 1;; ++spin) {
    const int64_t turn = __atomic_load_n(&j->turn, __ATOMIC_ACQUIRE);
    if (turn == value) return 0;
    if (turn == -1) return -1;
    if (spin % 4096 == 0 && seconds() > deadline) {
      __atomic_store_n(&j->turn, -1, __ATOMIC_RELEASE);
      return -1;
    }
    __builtin_ia32_pause();
  }
}

static void *partner(void *arg) {
  link_job *j = arg;
  for (int64_t t = 1; t < j->last; t += 2) {
    if (wait_for(j, t) != 0) return NULL;
    if (t > 2 * BATCHES * ROUND_TRIPS) { /* a handoff: read every cache line the caller wrote */
      unsigned sum = 0;
      for (size_t i = 0; i < HANDOFF_BYTES; i += 64) sum += j->buffer[i];
      __asm__ volatile("" : : "r"(sum));
    }
    __atomic_store_n(&j->turn, t + 1, __ATOMIC_RELEASE);
  }
  return NULL;
}

static int compare(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The caller's side: round trips in batches, then handoffs of the buffer; -1 if the partner stopped answering. */
static int measure(link_job *j, double *trips, double *handoffs) {
  int64_t t = 0;
  for (int b = 0; b < BATCHES; ++b) {
    const double start = seconds();
    for (int i = 0; i < ROUND_TRIPS; ++i, t += 2) {
      __atomic_store_n(&j->turn, t + 1, __ATOMIC_RELEASE);
      if (wait_for(j, t + 2) != 0) return -1;
    }
    trips[b] = (seconds() - start) / ROUND_TRIPS;
  }
  for (int h = 0; h < HANDOFFS; ++h, t += 2) {
    memset(j->buffer, h, HANDOFF_BYTES);
    const double start = seconds();
    __atomic_store_n(&j->turn, t + 1, __ATOMIC_RELEASE);
    if (wait_for(j, t + 2) != 0) return -1;
    handoffs[h] = seconds() - start;
  }
  return 0;
}

int lbe_core_link(double *round_trip_ns, double *handoff_bytes_per_second) {
  cpu_set_t allowed, set;
  if (!round_trip_ns || !handoff_bytes_per_second) return -1;
  if (pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) return -1;
  int cpus[2], found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
  link_job j = {0};
  j.buffer = malloc(HANDOFF_BYTES);
  j.last = 2 * BATCHES * ROUND_TRIPS + 2 * HANDOFFS + 1;
  pthread_attr_t attr;
  pthread_t thread;
  int started = 0, rc = -1;
  if (j.buffer && pthread_attr_init(&attr) == 0) {
    CPU_ZERO(&set);
    CPU_SET(cpus[1], &set);
    started = pthread_attr_setaffinity_np(&attr, sizeof set, &set) == 0 && pthread_create(&thread, &attr, partner, &j) == 0;
    pthread_attr_destroy(&attr);
  }
  CPU_ZERO(&set);
  CPU_SET(cpus[0], &set);
  double trips[BATCHES], handoffs[HANDOFFS];
  if (started) {
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0) rc = measure(&j, trips, handoffs);
    if (rc != 0) __atomic_store_n(&j.turn, -1, __ATOMIC_RELEASE);
    pthread_join(thread, NULL);
  }
  pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
  free(j.buffer);
  if (rc != 0) return -1;
  qsort(trips, BATCHES, sizeof *trips, compare);
  qsort(handoffs, HANDOFFS, sizeof *handoffs, compare);
  *round_trip_ns = trips[BATCHES / 2] * 1e9;
  *handoff_bytes_per_second = HANDOFF_BYTES / handoffs[HANDOFFS / 2];
  return 0;
}
