/* Keeping XNNPACK's workers awake between ops. tflite-runtime 2.14's XNNPACK delegate creates every runtime
 * with XNN_FLAG_YIELD_WORKERS, so the last op of each XNNPACK partition sends pthreadpool's workers straight to
 * futex_wait. In a converted BNN, partitions alternate with Lce ops, so at 2 threads every other op starts by
 * waking a sleeping thread: ~10 µs of futex_wake on a KVM guest (an IPI to a halted vCPU), then the wait for
 * the worker to arrive. Without the flag a worker spins ~25 ms before it sleeps, as pthreadpool does after
 * any other job, so the next op finds it awake.
 *
 * The delegate offers no option for this flag, and xnn_create_runtime_v4 is reached through the wrapper's PLT,
 * so we point the wrapper's GOT slot for it at a function that clears the flag while an engine interpreter
 * is being built on this thread (lbe_xnnpack_keep_workers_awake), then calls the real one. The workers then
 * also spin between back-to-back inferences (the next one starts without a wake-up); lbe_pool_yield sends
 * them to sleep on request. Outputs do not change: the flag only decides whether workers spin or sleep
 * after a job. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <stdint.h>
#include <unistd.h>

#define XNN_FLAG_YIELD_WORKERS 0x10u /* xnnpack.h */
static const char HOOKED_SYMBOL[] = "xnn_create_runtime_v4";
/* lbe_xnnpack_hook_install's results (benchmarks/engine/xnnpack_spin.py names them) */
enum {
  LBE_HOOK_NO_OBJECT = -1,    /* no loaded object holds the function given */
  LBE_HOOK_NO_SLOT = -2,      /* that object has no PLT slot for xnn_create_runtime_v4 */
  LBE_HOOK_FOREIGN_SLOT = -3, /* the slot points somewhere else already */
  LBE_HOOK_PROTECTED = -4,    /* the slot's page could not be made writable */
};

typedef int (*create_runtime_v4_fn)(void *subgraph, void *weights_cache, void *workspace, void *threadpool,
                                    uint32_t flags, void **runtime_out);
static create_runtime_v4_fn real_create_runtime;
static __thread int keep_awake;
static __thread int64_t runtimes_kept_awake; /* per thread: a caller counts only its own */

static int create_runtime_keeping_workers_awake(void *subgraph, void *weights_cache, void *workspace,
                                                void *threadpool, uint32_t flags, void **runtime_out) {
  if (keep_awake && (flags & XNN_FLAG_YIELD_WORKERS)) {
    flags &= ~XNN_FLAG_YIELD_WORKERS;
    ++runtimes_kept_awake;
  }
  return real_create_runtime(subgraph, weights_cache, workspace, threadpool, flags, runtime_out);
}

typedef struct {
  uintptr_t target; /* the real xnn_create_runtime_v4: finds the object that holds it */
  int status;
} search;

/* A dynamic-section address: glibc relocates these in place, other loaders may not. */
static uintptr_t absolute(uintptr_t base, uintptr_t address) { return address < base ? base + address : address; }

static int in_object(const struct dl_phdr_info *info, uintptr_t address) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    const uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && address >= start && address < start + ph->p_memsz) return 1;
  }
  return 0;
}

/* Writes `value` into the GOT `slot`, lifting RELRO's read-only protection around the write if needed. */
static int write_slot(const struct dl_phdr_info *info, void **slot, void *value) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    const uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type != PT_GNU_RELRO || (uintptr_t)slot < start || (uintptr_t)slot >= start + ph->p_memsz) continue;
    const uintptr_t page = (uintptr_t)slot & ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
    if (mprotect((void *)page, sizeof *slot + ((uintptr_t)slot - page), PROT_READ | PROT_WRITE) != 0)
      return LBE_HOOK_PROTECTED;
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    mprotect((void *)page, sizeof *slot + ((uintptr_t)slot - page), PROT_READ);
    return 0;
  }
  __atomic_store_n(slot, value, __ATOMIC_RELEASE);
  return 0;
}

static int patch_object(struct dl_phdr_info *info, size_t size, void *search_) {
  (void)size;
  search *s = search_;
  if (!in_object(info, s->target)) return 0;
  const ElfW(Dyn) *dynamic = NULL;
  for (int i = 0; i < info->dlpi_phnum; ++i)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  s->status = LBE_HOOK_NO_SLOT;
  if (!dynamic) return 1;
  uintptr_t relocations = 0, symbols = 0, names = 0;
  size_t relocation_bytes = 0;
  int64_t relocation_kind = DT_RELA;
  for (const ElfW(Dyn) *d = dynamic; d->d_tag != DT_NULL; ++d) {
    if (d->d_tag == DT_JMPREL) relocations = absolute(info->dlpi_addr, d->d_un.d_ptr);
    if (d->d_tag == DT_PLTRELSZ) relocation_bytes = d->d_un.d_val;
    if (d->d_tag == DT_SYMTAB) symbols = absolute(info->dlpi_addr, d->d_un.d_ptr);
    if (d->d_tag == DT_STRTAB) names = absolute(info->dlpi_addr, d->d_un.d_ptr);
    if (d->d_tag == DT_PLTREL) relocation_kind = (int64_t)d->d_un.d_val;
  }
  if (!relocations || !symbols || !names || relocation_kind != DT_RELA) return 1;
  const ElfW(Rela) *rela = (const ElfW(Rela) *)relocations;
  for (size_t i = 0; i < relocation_bytes / sizeof *rela; ++i) {
    if (ELF64_R_TYPE(rela[i].r_info) != R_X86_64_JUMP_SLOT) continue;
    const ElfW(Sym) *symbol = (const ElfW(Sym) *)symbols + ELF64_R_SYM(rela[i].r_info);
    if (strcmp((const char *)names + symbol->st_name, HOOKED_SYMBOL) != 0) continue;
    void **slot = (void **)(info->dlpi_addr + rela[i].r_offset);
    const uintptr_t now = (uintptr_t)__atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (now == (uintptr_t)create_runtime_keeping_workers_awake) {
      s->status = 0;
    } else if (now == s->target || in_object(info, now)) { /* bound, or still the lazy-binding PLT stub */
      real_create_runtime = (create_runtime_v4_fn)s->target;
      s->status = write_slot(info, slot, (void *)create_runtime_keeping_workers_awake);
    } else {
      s->status = LBE_HOOK_FOREIGN_SLOT; /* someone else redirected it: leave it alone */
    }
    return 1;
  }
  return 1;
}

int lbe_xnnpack_hook_install(void *create_runtime_v4) {
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  if (!create_runtime_v4) return LBE_HOOK_NO_OBJECT;
  search s = {(uintptr_t)create_runtime_v4, LBE_HOOK_NO_OBJECT};
  pthread_mutex_lock(&mutex);
  dl_iterate_phdr(patch_object, &s);
  pthread_mutex_unlock(&mutex);
  return s.status;
}

void lbe_xnnpack_keep_workers_awake(int on) { keep_awake = on; }

int64_t lbe_xnnpack_runtimes_kept_awake(void) { return runtimes_kept_awake; }
