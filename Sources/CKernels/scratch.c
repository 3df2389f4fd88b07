// Per-thread scratch buffers: packing panels and im2col blocks live here, so a training loop
// that calls the same shapes again allocates nothing. A pthread key frees them at thread exit.
#include "internal.h"

#include "CKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct {
  float *buffer[HD_SCRATCH_COUNT];
  size_t capacity[HD_SCRATCH_COUNT];
} scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *value) {
  scratch_set *set = value;
  for (int i = 0; i < HD_SCRATCH_COUNT; i++) free(set->buffer[i]);
  free(set);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

float *hd_scratch(int slot, size_t count) {
  pthread_once(&scratch_once, scratch_init);
  scratch_set *set = pthread_getspecific(scratch_key);
  if (!set) {
    set = calloc(1, sizeof *set);
    if (!set) abort();
    pthread_setspecific(scratch_key, set);
  }
  if (count == 0) count = 1;
  if (set->capacity[slot] < count) {
    free(set->buffer[slot]);
    // Round up so that slowly growing requests do not reallocate every call.
    size_t capacity = count + count / 4 + 16;
    void *p = NULL;
    if (posix_memalign(&p, 64, capacity * sizeof(float)) != 0) abort();
    set->buffer[slot] = p;
    set->capacity[slot] = capacity;
  }
  return set->buffer[slot];
}

// The lock of the Swift buffer pool (Tensor's BufferPool): a spin lock, because its critical
// sections are a few dictionary operations (well under a microsecond) taken by every large
// tensor allocation and release, and a pthread mutex's profile showed the second data-parallel
// worker sleeping in the kernel. (That first pool was slow mostly for another reason, since
// fixed: it kept sizes nobody asked for; the lock's own share was not measured apart.)
static atomic_flag pool_flag = ATOMIC_FLAG_INIT;

void hd_pool_lock(void) {
  int spins = 0;
  while (atomic_flag_test_and_set_explicit(&pool_flag, memory_order_acquire)) {
    if (++spins >= 100) {
      sched_yield();  // the holder may have been descheduled: let it run
      spins = 0;
    } else {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    }
  }
}

void hd_pool_unlock(void) { atomic_flag_clear_explicit(&pool_flag, memory_order_release); }

long hd_take_next(long *counter) {
  return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}
