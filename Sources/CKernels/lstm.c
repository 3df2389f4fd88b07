// The element-wise part of an LSTM step, forward and backward, for the whole-sequence LSTM
// operation (Sources/Tensor/Ops/Recurrent.swift): gates, cell state and hidden state in one pass
// over a step's [batch, 4·units] pre-activations, with an exponential the compiler vectorizes
// (libm's expf and tanhf are scalar calls: a third of a long-sequence LSTM step went to them).
//
// Gate order along the last axis is Keras' i, f, c (here g), o. Forward, per unit:
//   i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o)
//   c = f·c_prev + i·g,  h = o·tanh(c)
// The activated gates and tanh(c) are kept, so the backward pass needs no transcendental:
//   dh = dh_up + dh_rec,  dc = dc_next + dh·o·(1 − tanh²c)
//   dz_i = dc·g·i(1 − i), dz_f = dc·c_prev·f(1 − f), dz_g = dc·i·(1 − g²), dz_o = dh·tanh(c)·o(1 − o)
//   dc_prev = dc·f
#include "CKernels.h"
#include "internal.h"

#include <string.h>

// e^x for x in [−87, 88] (clamped outside) to about 2 ulp: x = n·ln2 + r with |r| ≤ ln2/2, e^r
// by Cephes' degree-6 polynomial, 2^n through the exponent bits. Round to nearest by the
// 1.5·2²³ trick (no rint call, so every target vectorizes it).
static inline __attribute__((always_inline)) float hd_lstm_exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float shift = 12582912.0f;  // 1.5·2²³
  float n = (x * 1.44269504088896341f + shift) - shift;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int bits = ((int)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline __attribute__((always_inline)) float hd_lstm_sigmoid(float x) {
  return 1.0f / (1.0f + hd_lstm_exp(-x));
}

// tanh x = sign(x)·(1 − e)/(1 + e) with e = e^(−2|x|); below |x| = 0.02 the odd series
// x − x³/3 + 2x⁵/15 instead, where 1 − e would lose relative precision.
static inline __attribute__((always_inline)) float hd_lstm_tanh(float x) {
  float a = x < 0 ? -x : x;
  float e = hd_lstm_exp(-2.0f * a);
  float t = (1.0f - e) / (1.0f + e);
  float x2 = x * x;
  float series = x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f)));
  t = x < 0 ? -t : t;
  return a < 0.02f ? series : t;
}

#define HD_LSTM_FORWARD_ARGS                                                                   \
  long batch, long units, float *restrict z, const float *restrict c_prev, float *restrict c, \
      float *restrict tc, float *restrict h, long h_stride
#define HD_LSTM_FORWARD_BODY                                                                   \
  for (long b = 0; b < batch; b++) {                                                           \
    float *restrict zi = z + b * 4 * units, *restrict zf = zi + units;                         \
    float *restrict zg = zf + units, *restrict zo = zg + units;                                \
    float *restrict cb = c + b * units, *restrict tb = tc + b * units;                         \
    float *restrict hb = h + b * h_stride;                                                     \
    if (c_prev) {                                                                              \
      const float *restrict pb = c_prev + b * units;                                           \
      for (long j = 0; j < units; j++) {                                                       \
        float i = hd_lstm_sigmoid(zi[j]), f = hd_lstm_sigmoid(zf[j]);                          \
        float g = hd_lstm_tanh(zg[j]), o = hd_lstm_sigmoid(zo[j]);                             \
        float cell = f * pb[j] + i * g, t = hd_lstm_tanh(cell);                                \
        zi[j] = i, zf[j] = f, zg[j] = g, zo[j] = o;                                            \
        cb[j] = cell, tb[j] = t, hb[j] = o * t;                                                \
      }                                                                                        \
    } else {                                                                                   \
      for (long j = 0; j < units; j++) {                                                       \
        float i = hd_lstm_sigmoid(zi[j]), f = hd_lstm_sigmoid(zf[j]);                          \
        float g = hd_lstm_tanh(zg[j]), o = hd_lstm_sigmoid(zo[j]);                             \
        float cell = i * g, t = hd_lstm_tanh(cell);                                            \
        zi[j] = i, zf[j] = f, zg[j] = g, zo[j] = o;                                            \
        cb[j] = cell, tb[j] = t, hb[j] = o * t;                                                \
      }                                                                                        \
    }                                                                                          \
  }

#define HD_LSTM_BACKWARD_ARGS                                                                  \
  long batch, long units, const float *restrict act, const float *restrict c_prev,            \
      const float *restrict tc, const float *restrict dh_up, long dh_stride,                   \
      const float *restrict dh_rec, float *restrict dc, float *restrict dz
#define HD_LSTM_BACKWARD_BODY                                                                  \
  for (long b = 0; b < batch; b++) {                                                           \
    const float *restrict ai = act + b * 4 * units, *restrict af = ai + units;                 \
    const float *restrict ag = af + units, *restrict ao = ag + units;                          \
    const float *restrict tb = tc + b * units;                                                 \
    const float *restrict pb = c_prev ? c_prev + b * units : 0;                                \
    const float *restrict ub = dh_up ? dh_up + b * dh_stride : 0;                              \
    const float *restrict rb = dh_rec ? dh_rec + b * units : 0;                                \
    float *restrict db = dc + b * units;                                                       \
    float *restrict gi = dz + b * 4 * units, *restrict gf = gi + units;                        \
    float *restrict gg = gf + units, *restrict go = gg + units;                                \
    for (long j = 0; j < units; j++) {                                                         \
      float dh = (ub ? ub[j] : 0.0f) + (rb ? rb[j] : 0.0f);                                    \
      float i = ai[j], f = af[j], g = ag[j], o = ao[j], t = tb[j];                             \
      float d = db[j] + dh * o * (1.0f - t * t);                                               \
      gi[j] = d * g * i * (1.0f - i);                                                          \
      gf[j] = pb ? d * pb[j] * f * (1.0f - f) : 0.0f;                                          \
      gg[j] = d * i * (1.0f - g * g);                                                          \
      go[j] = dh * t * o * (1.0f - o);                                                         \
      db[j] = d * f;                                                                           \
    }                                                                                          \
  }

HD_VARIANTS(lstm_forward, HD_LSTM_FORWARD_ARGS, HD_LSTM_FORWARD_BODY)
HD_VARIANTS(lstm_backward, HD_LSTM_BACKWARD_ARGS, HD_LSTM_BACKWARD_BODY)

void hd_lstm_cell_forward(int variant, long batch, long units, float *z, const float *c_prev,
                          float *c, float *tc, float *h, long h_stride) {
  HD_DISPATCH(variant, lstm_forward, batch, units, z, c_prev, c, tc, h, h_stride);
}

void hd_lstm_cell_backward(int variant, long batch, long units, const float *act,
                           const float *c_prev, const float *tc, const float *dh_up,
                           long dh_stride, const float *dh_rec, float *dc, float *dz) {
  HD_DISPATCH(variant, lstm_backward, batch, units, act, c_prev, tc, dh_up, dh_stride, dh_rec, dc,
              dz);
}
