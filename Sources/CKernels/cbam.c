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
  HD_CBAM_SPATIAL_MAP(smean, smax, ms);                                                      \
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
