// Per-thread scratch buffers: packing panels and im2col blocks live here, so a training loop
// that calls the same shapes again allocates nothing. A pthread key frees them at thread exit.
#include "internal.h"

#include "CKernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

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

static pthread_once_t allocator_once = PTHREAD_ONCE_INIT;
static int allocator_tuned = 0;

static void tune_allocator(void) {
#if defined(__GLIBC__)
  const char *opt_out = getenv("HARDISTILL_MALLOC_TUNING");
  if (opt_out && strcmp(opt_out, "0") == 0) return;
  const char *tunables = getenv("GLIBC_TUNABLES");
  if (tunables && strstr(tunables, "glibc.malloc.")) return;  // the user chose already
  // 32 MiB is glibc's largest mmap threshold on 64-bit; activations of the reference models at
  // batch 64 are at most 4 MiB. The trim threshold bounds how much freed memory stays mapped.
  int ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  ok &= mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  allocator_tuned = ok != 0;
#endif
}

int hd_tune_allocator(void) {
  pthread_once(&allocator_once, tune_allocator);
  return allocator_tuned;
}
