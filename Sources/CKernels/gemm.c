// Packed, cache-blocked SGEMM (the BLIS loop nest) with one register-tiled micro-kernel per
// instruction-set variant, chosen at run time.
//
// Implementation goals:
// - Speed from a plain release build: the AVX-512 and AVX2 micro-kernels carry their own
//   `target` attribute, so the translation unit itself stays at the default target and the
//   binary runs (generic variant) on any x86-64; nothing needs `-march` or unsafe flags.
// - Transposed operands cost nothing extra: packing reads either layout, so backward passes
//   (Aᵀ·B, A·Bᵀ) never copy a transpose.
// - Edge tiles use AVX-512 masked loads and stores instead of a scalar copy through a
//   temporary, because the conv shapes have N = 16, 45, 80, 320 (not multiples of 32).
// - Packing buffers are per thread and grow only, so a training loop allocates nothing here.
#include "CKernels.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HD_X86 1
#endif

// ---------------------------------------------------------------------------------------------
// Variant selection.

static int detect_best(void) {
#if HD_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return HD_VARIANT_AVX512F;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return HD_VARIANT_AVX2_FMA;
#endif
  return HD_VARIANT_GENERIC;
}

// -1: not yet detected. Relaxed atomics: every thread computes the same value, so a race only
// repeats the detection.
static int best_variant = -1;

static int best(void) {
  int v = __atomic_load_n(&best_variant, __ATOMIC_RELAXED);
  if (v < 0) {
    v = detect_best();
    __atomic_store_n(&best_variant, v, __ATOMIC_RELAXED);
  }
  return v;
}

const char *hd_variant_name(int variant) {
  switch (variant) {
  case HD_VARIANT_AVX512F: return "avx512f";
  case HD_VARIANT_AVX2_FMA: return "avx2+fma";
  case HD_VARIANT_GENERIC: return "generic";
  default: return "unknown";
  }
}

int hd_variant_supported(int variant) {
  return variant >= 0 && variant < HD_VARIANT_COUNT && variant <= best();
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels: C[mr×nr] = beta·C + Σ_p a[p·MR + r]·b[p·NR + j] over packed panels.

typedef void (*micro_kernel)(long kc, const float *a, const float *b, float *c, long ldc,
                             long mr, long nr, float beta);

// The same product reading A in place: element (r, p) of the tile at a[r·rs + p·ps].
typedef void (*strided_kernel)(long kc, const float *a, long rs, long ps, const float *b,
                               long bs, float *c, long ldc, long mr, long nr, float beta);

typedef struct {
  long mr, nr, mc, kc, nc;
  micro_kernel kernel;
  strided_kernel strided;  // NULL: A is always packed
} gemm_config;

// Stores a finished tile through a temporary when it is partial (kernels without masking).
static inline void store_tile(const float *tile, long tile_ld, float *c, long ldc, long mr,
                              long nr, float beta) {
  for (long r = 0; r < mr; r++) {
    float *row = c + r * ldc;
    const float *t = tile + r * tile_ld;
    if (beta == 0.0f) {
      for (long j = 0; j < nr; j++) row[j] = t[j];
    } else {
      for (long j = 0; j < nr; j++) row[j] = t[j] + beta * row[j];
    }
  }
}

// Portable kernel: 4-wide vectors through clang's vector extension, which lowers to SSE on
// x86-64 and NEON on arm64 at the default target. Plain scalar loops over a float[4][8] tile
// were measured at 5–10 GFLOP/s here (not vectorized); 4×8 keeps the accumulators in 8 of the
// 16 SSE registers.
#define GEN_MR 4
#define GEN_NR 8
typedef float hd_v4 __attribute__((vector_size(16), aligned(4)));
static void micro_generic(long kc, const float *a, const float *b, float *c, long ldc, long mr,
                          long nr, float beta) {
  hd_v4 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
  for (long p = 0; p < kc; p++) {
    hd_v4 b0, b1;
    memcpy(&b0, b, sizeof b0);
    memcpy(&b1, b + 4, sizeof b1);
    hd_v4 x0 = {a[0], a[0], a[0], a[0]}, x1 = {a[1], a[1], a[1], a[1]};
    hd_v4 x2 = {a[2], a[2], a[2], a[2]}, x3 = {a[3], a[3], a[3], a[3]};
    c00 += x0 * b0; c01 += x0 * b1;
    c10 += x1 * b0; c11 += x1 * b1;
    c20 += x2 * b0; c21 += x2 * b1;
    c30 += x3 * b0; c31 += x3 * b1;
    a += GEN_MR;
    b += GEN_NR;
  }
  float tile[GEN_MR * GEN_NR];
  memcpy(tile + 0, &c00, 16); memcpy(tile + 4, &c01, 16);
  memcpy(tile + 8, &c10, 16); memcpy(tile + 12, &c11, 16);
  memcpy(tile + 16, &c20, 16); memcpy(tile + 20, &c21, 16);
  memcpy(tile + 24, &c30, 16); memcpy(tile + 28, &c31, 16);
  store_tile(tile, GEN_NR, c, ldc, mr, nr, beta);
}

#if HD_X86
// AVX2 + FMA: 6×16, 12 ymm accumulators + 2 for B + 1 broadcast = 15 of 16 registers.
#define HD_AVX2 __attribute__((target("avx2,fma")))
HD_AVX2 static void micro_avx2(long kc, const float *a, const float *b, float *c, long ldc,
                               long mr, long nr, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 x;
#define HD_ROW2(r)                                                                           \
  x = _mm256_broadcast_ss(a + r);                                                            \
  c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0);                                                 \
  c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1);
    HD_ROW2(0) HD_ROW2(1) HD_ROW2(2) HD_ROW2(3) HD_ROW2(4) HD_ROW2(5)
#undef HD_ROW2
    a += 6;
    b += 16;
  }
  float tile[6 * 16];
  int full = mr == 6 && nr == 16;
  float *t = full ? NULL : tile;
#define HD_STORE2(r)                                                                         \
  if (full) {                                                                                \
    float *row = c + r * ldc;                                                                \
    if (beta != 0.0f) {                                                                      \
      __m256 vb = _mm256_set1_ps(beta);                                                      \
      c##r##0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), c##r##0);                          \
      c##r##1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), c##r##1);                      \
    }                                                                                        \
    _mm256_storeu_ps(row, c##r##0);                                                          \
    _mm256_storeu_ps(row + 8, c##r##1);                                                      \
  } else {                                                                                   \
    _mm256_storeu_ps(t + r * 16, c##r##0);                                                   \
    _mm256_storeu_ps(t + r * 16 + 8, c##r##1);                                               \
  }
  HD_STORE2(0) HD_STORE2(1) HD_STORE2(2) HD_STORE2(3) HD_STORE2(4) HD_STORE2(5)
#undef HD_STORE2
  if (!full) store_tile(tile, 16, c, ldc, mr, nr, beta);
}

// AVX-512: 8×32, 16 zmm accumulators (the best tile a probe of tile shapes found on Zen 4);
// partial tiles are handled with lane masks, rows by skipping.
#define HD_AVX512 __attribute__((target("avx512f")))
HD_AVX512 static inline __attribute__((always_inline)) void
avx512_8x32(long kc, const float *a, long rs, long ps, const float *b, long bs, float *c,
            long ldc, long mr, long nr, float beta) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
  __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  for (long p = 0; p < kc; p++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 x;
#define HD_ROW5(r)                                                                           \
  x = _mm512_set1_ps(a[(r) * rs]);                                                                \
  c##r##0 = _mm512_fmadd_ps(x, b0, c##r##0);                                                 \
  c##r##1 = _mm512_fmadd_ps(x, b1, c##r##1);
    HD_ROW5(0) HD_ROW5(1) HD_ROW5(2) HD_ROW5(3) HD_ROW5(4) HD_ROW5(5) HD_ROW5(6) HD_ROW5(7)
#undef HD_ROW5
    a += ps;
    b += bs;
  }
  __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
  __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF
                 : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1)
                           : (__mmask16)0;
  __m512 vb = _mm512_set1_ps(beta);
#define HD_STORE5(r)                                                                         \
  if (r < mr) {                                                                              \
    float *row = c + r * ldc;                                                                \
    if (beta != 0.0f) {                                                                      \
      c##r##0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), c##r##0);                \
      c##r##1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16), c##r##1);           \
    }                                                                                        \
    _mm512_mask_storeu_ps(row, m0, c##r##0);                                                 \
    _mm512_mask_storeu_ps(row + 16, m1, c##r##1);                                            \
  }
  HD_STORE5(0) HD_STORE5(1) HD_STORE5(2) HD_STORE5(3)
  HD_STORE5(4) HD_STORE5(5) HD_STORE5(6) HD_STORE5(7)
#undef HD_STORE5
}

HD_AVX512 static void micro_avx512(long kc, const float *a, const float *b, float *c, long ldc,
                                   long mr, long nr, float beta) {
  avx512_8x32(kc, a, 1, 8, b, 32, c, ldc, mr, nr, beta);
}

HD_AVX512 static void strided_avx512(long kc, const float *a, long rs, long ps, const float *b,
                                     long bs, float *c, long ldc, long mr, long nr, float beta) {
  avx512_8x32(kc, a, rs, ps, b, bs, c, ldc, mr, nr, beta);
}
#endif

#if HD_X86
// AVX-512 for narrow products (N ≤ 16: the students' 16-channel convolutions, where the 8×32
// tile would compute half zeros): 12×16, 12 zmm accumulators.
HD_AVX512 static inline __attribute__((always_inline)) void
avx512_12x16(long kc, const float *a, long rs, long ps, const float *b, long bs, float *c,
             long ldc, long mr, long nr, float beta) {
  __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps();
  __m512 c3 = _mm512_setzero_ps(), c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps();
  __m512 c6 = _mm512_setzero_ps(), c7 = _mm512_setzero_ps(), c8 = _mm512_setzero_ps();
  __m512 c9 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  for (long p = 0; p < kc; p++) {
    __m512 b0 = _mm512_loadu_ps(b);
#define HD_ROWN(r) c##r = _mm512_fmadd_ps(_mm512_set1_ps(a[(r) * rs]), b0, c##r);
    HD_ROWN(0) HD_ROWN(1) HD_ROWN(2) HD_ROWN(3) HD_ROWN(4) HD_ROWN(5)
    HD_ROWN(6) HD_ROWN(7) HD_ROWN(8) HD_ROWN(9) HD_ROWN(10) HD_ROWN(11)
#undef HD_ROWN
    a += ps;
    b += bs;
  }
  __mmask16 m = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
  __m512 vb = _mm512_set1_ps(beta);
#define HD_STOREN(r)                                                                         \
  if (r < mr) {                                                                              \
    float *row = c + r * ldc;                                                                \
    if (beta != 0.0f) c##r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, row), c##r);       \
    _mm512_mask_storeu_ps(row, m, c##r);                                                     \
  }
  HD_STOREN(0) HD_STOREN(1) HD_STOREN(2) HD_STOREN(3) HD_STOREN(4) HD_STOREN(5)
  HD_STOREN(6) HD_STOREN(7) HD_STOREN(8) HD_STOREN(9) HD_STOREN(10) HD_STOREN(11)
#undef HD_STOREN
}

HD_AVX512 static void micro_avx512_narrow(long kc, const float *a, const float *b, float *c,
                                          long ldc, long mr, long nr, float beta) {
  avx512_12x16(kc, a, 1, 12, b, 16, c, ldc, mr, nr, beta);
}

HD_AVX512 static void strided_avx512_narrow(long kc, const float *a, long rs, long ps,
                                            const float *b, long bs, float *c, long ldc, long mr,
                                            long nr, float beta) {
  avx512_12x16(kc, a, rs, ps, b, bs, c, ldc, mr, nr, beta);
}

static const gemm_config narrow_avx512 = {12, 16, 96, 512, 4096, micro_avx512_narrow,
                                          strided_avx512_narrow};
#endif

static const gemm_config configs[HD_VARIANT_COUNT] = {
    [HD_VARIANT_GENERIC] = {GEN_MR, GEN_NR, 64, 256, 4096, micro_generic, NULL},
#if HD_X86
    [HD_VARIANT_AVX2_FMA] = {6, 16, 96, 256, 4096, micro_avx2, NULL},
    [HD_VARIANT_AVX512F] = {8, 32, 96, 512, 4096, micro_avx512, strided_avx512},
#else
    [HD_VARIANT_AVX2_FMA] = {GEN_MR, GEN_NR, 64, 256, 4096, micro_generic, NULL},
    [HD_VARIANT_AVX512F] = {GEN_MR, GEN_NR, 64, 256, 4096, micro_generic, NULL},
#endif
};

// ---------------------------------------------------------------------------------------------
// Packing: A block → MR-row panels (kc × MR each), B block → NR-column panels (kc × NR each),
// zero-padded to whole panels so the micro-kernels never branch on the edge inside their loop.

static void pack_a(int trans, const float *a, long lda, long i0, long p0, long mc, long kc,
                   long mr_panel, float *out) {
  for (long i = 0; i < mc; i += mr_panel) {
    long rows = mc - i < mr_panel ? mc - i : mr_panel;
    float *panel = out + i * kc;
    if (trans) {
      // op(A)[i, p] = a[p·lda + i]: each packed column is a contiguous run of the source.
      for (long p = 0; p < kc; p++) {
        const float *src = a + (p0 + p) * lda + i0 + i;
        float *dst = panel + p * mr_panel;
        long r = 0;
        for (; r < rows; r++) dst[r] = src[r];
        for (; r < mr_panel; r++) dst[r] = 0.0f;
      }
    } else {
      // Row by row: each source row is read sequentially, MR streams at once.
      for (long r = 0; r < rows; r++) {
        const float *src = a + (i0 + i + r) * lda + p0;
        for (long p = 0; p < kc; p++) panel[p * mr_panel + r] = src[p];
      }
      for (long r = rows; r < mr_panel; r++)
        for (long p = 0; p < kc; p++) panel[p * mr_panel + r] = 0.0f;
    }
  }
}

static void pack_b(int trans, const float *b, long ldb, long p0, long j0, long kc, long nc,
                   long nr_panel, float *out) {
  for (long j = 0; j < nc; j += nr_panel) {
    long cols = nc - j < nr_panel ? nc - j : nr_panel;
    float *panel = out + j * kc;
    if (trans) {
      for (long q = 0; q < cols; q++) {
        const float *src = b + (j0 + j + q) * ldb + p0;
        for (long p = 0; p < kc; p++) panel[p * nr_panel + q] = src[p];
      }
      for (long q = cols; q < nr_panel; q++)
        for (long p = 0; p < kc; p++) panel[p * nr_panel + q] = 0.0f;
    } else {
      for (long p = 0; p < kc; p++) {
        const float *src = b + (p0 + p) * ldb + j0 + j;
        float *dst = panel + p * nr_panel;
        long q = 0;
        for (; q < cols; q++) dst[q] = src[q];
        for (; q < nr_panel; q++) dst[q] = 0.0f;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Small products (the students' dense layers, CBAM's MLP: a few thousand multiply-adds) cost
// more to pack than to compute; an i-p-j loop over the operands in place is faster there.

#define HD_SMALL_BODY                                                                        \
  for (long i = 0; i < m; i++) {                                                             \
    float *row = c + i * ldc;                                                                \
    if (beta == 0.0f) {                                                                      \
      for (long j = 0; j < n; j++) row[j] = 0.0f;                                            \
    } else if (beta != 1.0f) {                                                               \
      for (long j = 0; j < n; j++) row[j] *= beta;                                           \
    }                                                                                        \
    for (long p = 0; p < k; p++) {                                                           \
      float av = trans_a ? a[p * lda + i] : a[i * lda + p];                                  \
      if (trans_b) {                                                                         \
        const float *col = b + p;                                                            \
        for (long j = 0; j < n; j++) row[j] += av * col[j * ldb];                            \
      } else {                                                                               \
        const float *brow = b + p * ldb;                                                     \
        for (long j = 0; j < n; j++) row[j] += av * brow[j];                                 \
      }                                                                                      \
    }                                                                                        \
  }

static void small_generic(int trans_a, int trans_b, long m, long n, long k, const float *a,
                          long lda, const float *b, long ldb, float beta, float *c, long ldc) {
  HD_SMALL_BODY
}
#if HD_X86
HD_AVX2 static void small_avx2(int trans_a, int trans_b, long m, long n, long k, const float *a,
                               long lda, const float *b, long ldb, float beta, float *c,
                               long ldc) {
  HD_SMALL_BODY
}
// AVX-512, B not transposed: 4 rows × 16 columns of C stay in registers across the whole depth
// (the i-p-j loop above loads and stores its row of C once per p). Masked loads and stores
// handle N not a multiple of 16. A transposed B (Aᵀ-free `A·Bᵀ`) keeps the loop above.
HD_AVX512 static void small_avx512(int trans_a, int trans_b, long m, long n, long k,
                                   const float *a, long lda, const float *b, long ldb, float beta,
                                   float *c, long ldc) {
  if (trans_b) {
    HD_SMALL_BODY
    return;
  }
  const long ra = trans_a ? 1 : lda, pa = trans_a ? lda : 1;  // a(i, p) = a[i·ra + p·pa]
  for (long j = 0; j < n; j += 16) {
    const __mmask16 mask = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
    long i = 0;
    for (; i + 4 <= m; i += 4) {
      __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
      const float *a0 = a + i * ra;
      for (long p = 0; p < k; p++) {
        __m512 vb = _mm512_maskz_loadu_ps(mask, b + p * ldb + j);
        const float *ap = a0 + p * pa;
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(ap[0]), vb, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(ap[ra]), vb, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(ap[2 * ra]), vb, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(ap[3 * ra]), vb, c3);
      }
      __m512 acc[4] = {c0, c1, c2, c3};
      for (long r = 0; r < 4; r++) {
        float *row = c + (i + r) * ldc + j;
        if (beta != 0.0f)
          acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, row), acc[r]);
        _mm512_mask_storeu_ps(row, mask, acc[r]);
      }
    }
    for (; i < m; i++) {
      __m512 acc = _mm512_setzero_ps();
      for (long p = 0; p < k; p++)
        acc = _mm512_fmadd_ps(_mm512_set1_ps(a[i * ra + p * pa]),
                              _mm512_maskz_loadu_ps(mask, b + p * ldb + j), acc);
      float *row = c + i * ldc + j;
      if (beta != 0.0f)
        acc = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, row), acc);
      _mm512_mask_storeu_ps(row, mask, acc);
    }
  }
}
#endif

// ---------------------------------------------------------------------------------------------
// The driver.

void hd_sgemm(int variant, int trans_a, int trans_b, long m, long n, long k,
                      const float *a, long lda, const float *b, long ldb, float beta, float *c,
                      long ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (long i = 0; i < m; i++)
      for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  if (!hd_variant_supported(variant)) variant = best();
  // Below ~16k multiply-adds, or with one output row or column, packing does not pay.
  if (m * n * k <= 16384 || m == 1 || n == 1) {
#if HD_X86
    if (variant == HD_VARIANT_AVX512F)
      small_avx512(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    else if (variant == HD_VARIANT_AVX2_FMA)
      small_avx2(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    else
#endif
      small_generic(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const gemm_config *cfg = &configs[variant];
#if HD_X86
  if (variant == HD_VARIANT_AVX512F && n <= 16) cfg = &narrow_avx512;
#endif
  const long MR = cfg->mr, NR = cfg->nr;
  long nc_max = cfg->nc < n ? cfg->nc : n;
  long kc_max = cfg->kc < k ? cfg->kc : k;
  long mc_max = cfg->mc < m ? cfg->mc : m;
  // The AVX-512 kernels read A in place (broadcasts from MR rows) instead of packing it. With
  // one or two column panels (N ≤ 2·NR) packing A cost as much as the product itself; on the
  // wider conv shapes in-place was measured equal or faster too (4096×640×128: 75 → 109
  // GFLOP/s on one core), as the MC×KC block of A stays in L2 either way.
  int in_place_a = cfg->strided != NULL;
  // With few rows (one MC block), each packed B panel would serve only m / MR micro-tiles, and
  // packing it cost a quarter of the product (45×8192×64 with A transposed: 71 % of the FMA
  // ceiling). The in-place kernels then read B's rows directly when whole panels fit (n a
  // multiple of NR, B not transposed: a panel's row is NR contiguous floats).
  int in_place_b = in_place_a && !trans_b && m <= cfg->mc && n % NR == 0;
  float *packed_b = hd_scratch(HD_SCRATCH_PACK_B, (size_t)kc_max * (size_t)((nc_max + NR - 1) / NR * NR));
  float *packed_a = hd_scratch(HD_SCRATCH_PACK_A, (size_t)kc_max * (size_t)((mc_max + MR - 1) / MR * MR));
  for (long jc = 0; jc < n; jc += cfg->nc) {
    long nc = n - jc < cfg->nc ? n - jc : cfg->nc;
    for (long pc = 0; pc < k; pc += cfg->kc) {
      long kc = k - pc < cfg->kc ? k - pc : cfg->kc;
      float beta_block = pc == 0 ? beta : 1.0f;
      if (!in_place_b) pack_b(trans_b, b, ldb, pc, jc, kc, nc, NR, packed_b);
      for (long ic = 0; ic < m; ic += cfg->mc) {
        long mc = m - ic < cfg->mc ? m - ic : cfg->mc;
        if (!in_place_a) pack_a(trans_a, a, lda, ic, pc, mc, kc, MR, packed_a);
        for (long jr = 0; jr < nc; jr += NR) {
          long nr = nc - jr < NR ? nc - jr : NR;
          // B's panel: packed (NR floats per step of the depth) or B's own rows (ldb apart).
          const float *panel = in_place_b ? b + pc * ldb + jc + jr : packed_b + jr * kc;
          long bs = in_place_b ? ldb : NR;
          for (long ir = 0; ir < mc; ir += MR) {
            long mr = mc - ir < MR ? mc - ir : MR;
            float *tile = c + (ic + ir) * ldc + jc + jr;
            if (!in_place_a) {
              cfg->kernel(kc, packed_a + ir * kc, panel, tile, ldc, mr, nr, beta_block);
            } else if (mr == MR) {
              long i = ic + ir;
              const float *source = trans_a ? a + pc * lda + i : a + i * lda + pc;
              cfg->strided(kc, source, trans_a ? 1 : lda, trans_a ? lda : 1, panel, bs, tile,
                           ldc, mr, nr, beta_block);
            } else {
              // The last rows: reading MR rows in place would run past A, so pack them.
              pack_a(trans_a, a, lda, ic + ir, pc, mr, kc, MR, packed_a);
              cfg->strided(kc, packed_a, 1, MR, panel, bs, tile, ldc, mr, nr, beta_block);
            }
          }
        }
      }
    }
  }
}
