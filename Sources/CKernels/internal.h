// Shared by the C kernels only; not part of the module's interface.
#ifndef HARDISTILL_CKERNELS_INTERNAL_H
#define HARDISTILL_CKERNELS_INTERNAL_H

#include <stddef.h>

enum {
  HD_SCRATCH_PACK_A = 0,
  HD_SCRATCH_PACK_B = 1,
  HD_SCRATCH_COLS = 2,
  HD_SCRATCH_FIX = 3,
  HD_SCRATCH_COUNT = 4
};

/// A 64-byte-aligned per-thread buffer of at least `count` floats in slot `slot`; it grows only
/// and is freed when the thread exits. Contents are not preserved across growth.
float *hd_scratch(int slot, size_t count);

#endif
