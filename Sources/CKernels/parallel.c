// A pool of parked worker threads for the parallel regions (Tensor's `parallelFor`).
//
// Why not Dispatch's `concurrentPerform`: on the 2-core Linux machines its second thread often
// started only after the calling thread had finished every piece (a region of 8 × 216 µs pieces
// on 2 threads: median 1.74 ms, the one-thread time; the second thread's first piece began after
// 27 µs at best and 1.73 ms at the median), while a futex wakes a parked thread in 4–8 µs
// (median) on the same machine under the same load. Here a worker, after a region, spins for a
// while (regions of a training step come back to back) and then sleeps on a futex; the caller
// takes pieces as well, so a region never waits for a worker that is slow to come.
//
// One region at a time owns the pool. A caller that finds it busy (another thread's region, or
// a region started from inside a piece) gets `0` back and runs the region some other way.
#include "CKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#define HD_FUTEX 1
#endif

#define HD_POOL_MAX 63

// The region being run: written by its caller before `generation` moves on (release), read by
// a worker after it joined (acquire on `joined`).
static struct {
  hd_piece_fn fn;
  void *context;
  long count;
} region;

static atomic_long wanted;    // workers the current region asks for (threads − 1)
static atomic_long next_piece;
static atomic_long joined;    // workers that joined the current region; HD_CLOSED once closed
static atomic_long finished;  // workers of the current region that are done
static atomic_uint generation;
static atomic_int sleepers;
static atomic_flag busy = ATOMIC_FLAG_INIT;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static int started;  // workers created (under start_lock)

#define HD_CLOSED (1L << 40)

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// How long a worker spins for the next region before it sleeps on the futex: the regions of a
// training step come tens of microseconds apart, and a sleeping worker costs a wake-up.
#define HD_SPIN_NANOSECONDS 200000L

static long elapsed_nanoseconds(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

static void wait_generation(unsigned seen) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int i = 1;; i++) {
    if (atomic_load_explicit(&generation, memory_order_acquire) != seen) return;
    cpu_relax();
    if (i % 256 == 0 && elapsed_nanoseconds(&start) > HD_SPIN_NANOSECONDS) break;
  }
  // Sequentially consistent, as the caller's increment of `generation` and its load of
  // `sleepers`: either the caller sees this sleeper and wakes it, or this load sees the new
  // generation (and the futex refuses to sleep on a value that has moved on).
  atomic_fetch_add(&sleepers, 1);
  while (atomic_load(&generation) == seen) {
#if HD_FUTEX
    syscall(SYS_futex, (unsigned *)&generation, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
    sched_yield();
#endif
  }
  atomic_fetch_sub(&sleepers, 1);
}

static void run_pieces(hd_piece_fn fn, void *context, long count) {
  for (;;) {
    long piece = atomic_fetch_add_explicit(&next_piece, 1, memory_order_relaxed);
    if (piece >= count) return;
    fn(context, piece);
  }
}

static void *worker_main(void *unused) {
  (void)unused;
  unsigned seen = atomic_load_explicit(&generation, memory_order_acquire);
  for (;;) {
    wait_generation(seen);
    seen = atomic_load_explicit(&generation, memory_order_acquire);
    // Join unless the region has its workers or is closed (then wait for the next one).
    long j = atomic_load_explicit(&joined, memory_order_acquire);
    int in = 0;
    while (j < atomic_load_explicit(&wanted, memory_order_relaxed)) {
      if (atomic_compare_exchange_weak_explicit(&joined, &j, j + 1, memory_order_acquire,
                                                memory_order_acquire)) {
        in = 1;
        break;
      }
    }
    if (!in) continue;
    run_pieces(region.fn, region.context, region.count);
    atomic_fetch_add_explicit(&finished, 1, memory_order_release);
  }
  return NULL;
}

static void ensure_workers(int count) {
  if (count > HD_POOL_MAX) count = HD_POOL_MAX;
  if (__atomic_load_n(&started, __ATOMIC_ACQUIRE) >= count) return;
  pthread_mutex_lock(&start_lock);
  while (started < count) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&thread, &attributes, worker_main, NULL);
    pthread_attr_destroy(&attributes);
    if (failed) break;
    __atomic_store_n(&started, started + 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&start_lock);
}

int hd_parallel_for(long count, int threads, hd_piece_fn fn, void *context) {
  if (count <= 0) return 1;
  if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) return 0;
  ensure_workers(threads - 1);
  long workers = threads - 1;
  if (workers > __atomic_load_n(&started, __ATOMIC_ACQUIRE))
    workers = __atomic_load_n(&started, __ATOMIC_ACQUIRE);
  region.fn = fn;
  region.context = context;
  region.count = count;
  atomic_store_explicit(&wanted, workers, memory_order_relaxed);
  atomic_store_explicit(&next_piece, 0, memory_order_relaxed);
  atomic_store_explicit(&finished, 0, memory_order_relaxed);
  atomic_store_explicit(&joined, 0, memory_order_release);
  atomic_fetch_add(&generation, 1);
#if HD_FUTEX
  if (atomic_load(&sleepers) > 0)
    syscall(SYS_futex, (unsigned *)&generation, FUTEX_WAKE_PRIVATE, (int)workers, NULL, NULL, 0);
#endif
  run_pieces(fn, context, count);
  // No worker joins after this; wait for those that did.
  long members = atomic_exchange_explicit(&joined, HD_CLOSED, memory_order_acq_rel);
  int spins = 0;
  while (atomic_load_explicit(&finished, memory_order_acquire) < members) {
    if (++spins >= 1000) {
      sched_yield();  // the worker may have been descheduled: let it run
      spins = 0;
    } else {
      cpu_relax();
    }
  }
  atomic_flag_clear_explicit(&busy, memory_order_release);
  return 1;
}
