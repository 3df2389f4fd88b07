// The machine's arithmetic ceiling: a loop of independent fused multiply-adds and nothing else,
// so that har-bench can state every case as a share of what the cores can do, measured in the
// same run as the case.
//
// Twelve independent accumulators cover the FMA latency (4 cycles) on two FMA ports (8 in
// flight), with margin; the operands stay in registers, so memory plays no part.
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

enum { ACCUMULATORS = 12 };

static float sum_generic(long iterations) {
  float acc[ACCUMULATORS];
  for (int i = 0; i < ACCUMULATORS; i++) acc[i] = (float)i;
  const float a = 0.999999f, b = 1e-7f;
  for (long n = 0; n < iterations; n++)
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = acc[i] * a + b;
  float s = 0;
  for (int i = 0; i < ACCUMULATORS; i++) s += acc[i];
  return s;
}

#if defined(__x86_64__)
#define CEILING_BODY(VEC, SET1, FMA, ADD, STORE, LANES)                                      \
  VEC acc[ACCUMULATORS];                                                                     \
  for (int i = 0; i < ACCUMULATORS; i++) acc[i] = SET1((float)i);                            \
  const VEC a = SET1(0.999999f), b = SET1(1e-7f);                                            \
  for (long n = 0; n < iterations; n++) {                                                    \
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = FMA(acc[i], a, b);                      \
    /* Keeps the accumulators in registers without letting the loop be folded. */            \
    __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]),            \
                     "+v"(acc[4]), "+v"(acc[5]), "+v"(acc[6]), "+v"(acc[7]), "+v"(acc[8]),   \
                     "+v"(acc[9]), "+v"(acc[10]), "+v"(acc[11]));                            \
  }                                                                                          \
  VEC s = acc[0];                                                                            \
  for (int i = 1; i < ACCUMULATORS; i++) s = ADD(s, acc[i]);                                 \
  float lanes[LANES];                                                                        \
  STORE(lanes, s);                                                                           \
  float total = 0;                                                                           \
  for (int i = 0; i < LANES; i++) total += lanes[i];                                         \
  return total;

__attribute__((target("avx512f"))) static float sum_avx512(long iterations) {
  CEILING_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma"))) static float sum_avx2(long iterations) {
  CEILING_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}
#endif

long hd_fma_ceiling_flops(int variant, long iterations) {
  int lanes = 1;
#if defined(__x86_64__)
  if (hd_variant_supported(variant) && variant == HD_VARIANT_AVX512F) lanes = 16;
  else if (hd_variant_supported(variant) && variant == HD_VARIANT_AVX2_FMA) lanes = 8;
#else
  (void)variant;
#endif
  return 2L * ACCUMULATORS * lanes * iterations;
}

float hd_fma_ceiling(int variant, long iterations) {
#if defined(__x86_64__)
  if (hd_variant_supported(variant) && variant == HD_VARIANT_AVX512F) return sum_avx512(iterations);
  if (hd_variant_supported(variant) && variant == HD_VARIANT_AVX2_FMA) return sum_avx2(iterations);
#else
  (void)variant;
#endif
  return sum_generic(iterations);
}
