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

typedef struct {
  _Alignas(64) volatile int64_t turn; /* odd: the partner's move, even: the caller's */
  _Alignas(64) unsigned char *buffer;
  int cpu;
  int64_t last;
} link_job;

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void wait_for(const link_job *j, int64_t value) {
  while (j->turn != value) __builtin_ia32_pause();
}

static void *partner(void *arg) {
  link_job *j = arg;
  pin(j->cpu);
  for (int64_t t = 1; t < j->last; t += 2) {
    wait_for(j, t);
    if (t > 2 * BATCHES * ROUND_TRIPS) { /* a handoff: read every cache line the caller wrote */
      unsigned sum = 0;
      for (size_t i = 0; i < HANDOFF_BYTES; i += 64) sum += j->buffer[i];
      __asm__ volatile("" : : "r"(sum));
    }
    j->turn = t + 1;
  }
  return NULL;
}

static int compare(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int lbe_core_link(double *round_trip_ns, double *handoff_bytes_per_second) {
  cpu_set_t allowed;
  if (!round_trip_ns || !handoff_bytes_per_second) return -1;
  if (pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) return -1;
  int cpus[2], found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
  link_job j = {0};
  j.buffer = malloc(HANDOFF_BYTES);
  j.cpu = cpus[1];
  j.last = 2 * BATCHES * ROUND_TRIPS + 2 * HANDOFFS + 1;
  pthread_t thread;
  if (!j.buffer || pin(cpus[0]) != 0 || pthread_create(&thread, NULL, partner, &j) != 0) {
    pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
    free(j.buffer);
    return -1;
  }
  double trips[BATCHES], handoffs[HANDOFFS];
  int64_t t = 0;
  for (int b = 0; b < BATCHES; ++b) {
    const double start = seconds();
    for (int i = 0; i < ROUND_TRIPS; ++i, t += 2) {
      j.turn = t + 1;
      wait_for(&j, t + 2);
    }
    trips[b] = (seconds() - start) / ROUND_TRIPS;
  }
  for (int h = 0; h < HANDOFFS; ++h, t += 2) {
    memset(j.buffer, h, HANDOFF_BYTES);
    const double start = seconds();
    j.turn = t + 1;
    wait_for(&j, t + 2);
    handoffs[h] = seconds() - start;
  }
  pthread_join(thread, NULL);
  pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
  free(j.buffer);
  qsort(trips, BATCHES, sizeof *trips, compare);
  qsort(handoffs, HANDOFFS, sizeof *handoffs, compare);
  *round_trip_ns = trips[BATCHES / 2] * 1e9;
  *handoff_bytes_per_second = HANDOFF_BYTES / handoffs[HANDOFFS / 2];
  return 0;
}
