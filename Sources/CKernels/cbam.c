// CBAM's whole forward pass on channels-last data in one kernel, for inference: one example at a
// time, its descriptors, maps and output without a tensor per step (the differentiable
// composition costs ~12 operations, each with its own output array, which dominated a
// single-window forward pass of the small student).
#include "CKernels.h"
#include "internal.h"

#include <math.h>

// One example: x and y are [time, channels]; mc [channels]; ms [time]; work holds
// 2·channels + 2·hidden + 2·time floats.
#define HD_CBAM_BODY                                                                           \
  float *sum = work, *peak = work + channels, *ha = peak + channels, *hm = ha + hidden;       \
  float *smean = hm + hidden, *smax = smean + time;                                           \
  HD_CBAM_CHANNEL_MAP(mc);                                                                   \
  /* Descriptors over channels of x ⊙ mc, in 16 lanes so that the loops vectorize; a multiply */ \
  /* by 1/C instead of a division per step (one rounding more, within the tests' 1e-6). */      \
  const float inverse_channels = 1.0f / (float)channels;                                       \
  for (long t = 0; t < time; t++) {                                                            \
    const float *row = x + t * channels;                                                       \
    float lanes[16], tops[16];                                                                 \
    float first = row[0] * mc[0];                                                              \
    for (int k = 0; k < 16; k++) {                                                             \
      lanes[k] = 0.0f;                                                                         \
      tops[k] = first;                                                                         \
    }                                                                                          \
    long c = 0;                                                                                \
    for (; c + 16 <= channels; c += 16)                                                        \
      for (int k = 0; k < 16; k++) {                                                           \
        float v = row[c + k] * mc[c + k];                                                      \
        lanes[k] += v;                                                                         \
        tops[k] = v > tops[k] ? v : tops[k];                                                   \
      }                                                                                        \
    for (; c < channels; c++) {                                                                \
      float v = row[c] * mc[c];                                                                \
      lanes[0] += v;                                                                           \
      tops[0] = v > tops[0] ? v : tops[0];                                                     \
    }                                                                                          \
    /* Halving tree over the lanes: 4 dependent steps instead of a 16-add chain. */           \
    for (int width = 8; width >= 1; width /= 2)                                                \
      for (int k = 0; k < width; k++) {                                                        \
        lanes[k] += lanes[k + width];                                                          \
        tops[k] = tops[k + width] > tops[k] ? tops[k + width] : tops[k];                       \
      }                                                                                        \
    smean[t] = lanes[0] * inverse_channels;                                                    \
    smax[t] = tops[0];                                                                         \
  }                                                                                            \
  /* The spatial map: a `same` convolution of [mean, max] over time, then the sigmoid. */      \
  const long pad = (kernel - 1) / 2;                                                           \
  for (long t = 0; t < time; t++) {                                                            \
    float q = 0.0f;                                                                            \
    for (long j = 0; j < kernel; j++) {                                                        \
      long s = t + j - pad;                                                                    \
      if (s >= 0 && s < time) q += filter[2 * j] * smean[s] + filter[2 * j + 1] * smax[s];     \
    }                                                                                          \
    ms[t] = hd_sigmoid(q);                                                                     \
  }                                                                                            \
  /* The output, rounded as the composition rounds it: (x·mc)·ms. */                           \
  for (long t = 0; t < time; t++) {                                                            \
    const float *row = x + t * channels;                                                       \
    float *out = y + t * channels;                                                             \
    const float gate = ms[t];                                                                  \
    for (long c = 0; c < channels; c++) out[c] = (row[c] * mc[c]) * gate;                      \
  }

#define HD_CBAM_ARGS                                                                           \
  long time, long channels, long hidden, const float *restrict x, const float *restrict w1,    \
      const float *restrict w2, long kernel, const float *restrict filter, float *restrict y,  \
      float *restrict mc, float *restrict ms, float *restrict work

HD_VARIANTS(cbam, HD_CBAM_ARGS, HD_CBAM_BODY)

void hd_cbam1d_forward(int variant, long batch, long time, long channels, long hidden,
                       const float *x, const float *w1, const float *w2, long kernel,
                       const float *filter, float *y, float *mc, float *ms) {
  if (time <= 0 || channels <= 0) return;
  float *work = hd_scratch(HD_SCRATCH_COLS, (size_t)(2 * channels + 2 * hidden + 2 * time));
  for (long b = 0; b < batch; b++) {
    HD_DISPATCH(variant, cbam, time, channels, hidden, x + b * time * channels, w1, w2, kernel,
                filter, y + b * time * channels, mc + b * channels, ms + b * time, work);
  }
}
