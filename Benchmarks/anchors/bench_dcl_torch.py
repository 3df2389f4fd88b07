"""PyTorch anchor for DeepConvLSTM on synthetic Opportunity-shaped (and HAPT-shaped) windows: the
model of `har-bench`'s `train.om` / `train.om-lm` / `train.om-hapt`
(Sources/Layers/DeepConvLSTM.swift), trained
the same way, timed the same way as the CNN anchors' PyTorch script (first epoch untimed,
per-epoch CPU accounting of other processes). Prints one JSON line.

  python bench_dcl_torch.py --model {om,om-lm,om-hapt} --samples 1024 --epochs N --threads 2 \
      [--out FILE] [--expect-params N] [--summary] [--lstm-bias keras|torch]

Workload: windows of 30 steps x 113 sensor channels (Opportunity's challenge layout, 1 s at
30 Hz), 18 classes, `--samples` synthetic windows (default 1,024, as `har-bench`), batch 64,
reshuffled every epoch with the last partial batch kept, Adam lr 1e-3, plain cross-entropy. The
first epoch is the untimed warm-up. `om-hapt`: OM on the study's UCI HAPT windows instead, 128
steps (2.56 s at 50 Hz) x 6 channels, 6 classes.

Model (om: 64 filters / 128 units; om-lm: LM's width, 4 / 8), input (B, 30, 113):
  unsqueeze            (B, 1, 30, 113)     NCHW: H = time, W = sensors
  4 x Conv2d (5, 1) valid + ReLU           (B, F, 14, 113)   over time, shared across sensors
  permute + reshape    (B, 14, 113 * F)    features sensor-major, as Swift's channels-last
                                           [B, 14, 113, F] reshaped
  LSTM(113 F -> U), every step             (B, 14, U)
  LSTM(U -> U), last step                  (B, U)
  Linear(U -> 18)                          logits
No dropout, no attention: the Swift model has neither.

LSTM biases: Keras (and the Swift LSTM) have one bias per gate, PyTorch two (b_ih and b_hh,
both added to the same gate pre-activation). With `--lstm-bias keras` (the default) b_hh is zero
and frozen, so the function and the trainable parameters are the Keras/Swift ones exactly; with
`--lstm-bias torch` both are trained (4·U more parameters per LSTM), to check that this does not
change the speed. Gate order is the same in both (i, f, g|c, o), sigmoid gates, tanh cell.
Every run first checks nn.LSTM with b_hh = 0 against the Keras formula step by step
(`lstm_max_abs_diff_vs_keras_formula` in the JSON line). Initialization follows Keras, like the
Swift model (Glorot-uniform kernels, orthogonal recurrent kernels, zero biases, forget-gate bias
1); it does not affect speed.
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

T, S, NCLS = 30, 113, 18  # window length (1 s at 30 Hz), sensor channels, classes (Opportunity)
K = 5  # convolution kernel length over time
WIDTHS = {"om": (64, 128), "om-lm": (4, 8), "om-hapt": (64, 128)}  # (filters, LSTM units)
SHAPES = {"om": (T, S, NCLS), "om-lm": (T, S, NCLS), "om-hapt": (128, 6, 6)}  # (steps, sensors, classes)


def parse_args():
    p = argparse.ArgumentParser(description="PyTorch DeepConvLSTM training anchor (Opportunity shape)")
    p.add_argument("--model", choices=sorted(WIDTHS), default="om")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=3, help="epoch 1 is warm-up and is not timed; needs >= 2")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--mode", choices=["eager"], default="eager")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lstm-bias", choices=["keras", "torch"], default="keras",
                   help="keras: one trainable bias per gate (b_hh frozen at 0); torch: b_ih and b_hh")
    p.add_argument("--expect-params", type=int, default=None,
                   help="fail unless the trainable parameter count is N (har-bench's \"params\")")
    p.add_argument("--summary", action="store_true", help="print the layers to stderr")
    p.add_argument("--out", default=None, help="also append the JSON line to this file")
    p.add_argument("--accept", type=float, default=0.15,
                   help="max CPU cores used by other processes for a timed epoch to count as clean")
    a = p.parse_args()
    if a.epochs < 2:
        p.error("--epochs must be >= 2 (the first epoch is the untimed warm-up)")
    return a


def make_data(n, seed=0, length=T, channels=S, classes=NCLS):
    """The CNN anchors' synthetic data at another shape: x (n, length,
    channels) float32, y (n,) int64; class k is a sinusoid of k+1 cycles per window, phase
    shifted per channel, under unit Gaussian noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=n).astype(np.int64)
    t = np.arange(length, dtype=np.float32)
    freq = (1.0 + y).astype(np.float32)
    phase = 0.5 * np.arange(channels, dtype=np.float32)
    sig = np.sin(2 * np.pi * freq[:, None, None] * t[None, :, None] / length + phase[None, None, :])
    x = 0.5 * sig + rng.standard_normal((n, length, channels), dtype=np.float32)
    return np.ascontiguousarray(x, dtype=np.float32), y


def expected_params(filters, units, sensors=S, classes=NCLS):
    """Trainable parameters derived by hand (one LSTM bias per gate, as Keras and Swift)."""
    conv = (K * 1 * 1 * filters + filters) + 3 * (K * filters * filters + filters)
    lstm1 = 4 * units * (sensors * filters + units + 1)
    lstm2 = 4 * units * (units + units + 1)
    dense = units * classes + classes
    return conv + lstm1 + lstm2 + dense


# ----------------------------------------------------------------------------- model
class DeepConvLSTM(nn.Module):
    """DeepConvLSTM.make(sensors:classes:generator:) without attention; see the module doc."""

    def __init__(self, filters, units, sensors=S, classes=NCLS, lstm_bias="keras"):
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv2d(1 if i == 0 else filters, filters, (K, 1)) for i in range(4)])
        self.lstm1 = nn.LSTM(sensors * filters, units, batch_first=True)
        self.lstm2 = nn.LSTM(units, units, batch_first=True)
        self.fc = nn.Linear(units, classes)
        with torch.no_grad():  # Keras' initializers, as the Swift model
            for m in [*self.convs, self.fc]:
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            for lstm in (self.lstm1, self.lstm2):
                nn.init.xavier_uniform_(lstm.weight_ih_l0)  # (4U, in): fans in and 4U
                nn.init.orthogonal_(lstm.weight_hh_l0)
                nn.init.zeros_(lstm.bias_ih_l0)
                lstm.bias_ih_l0[units:2 * units] = 1.0  # forget gate (Keras unit_forget_bias)
                nn.init.zeros_(lstm.bias_hh_l0)
                if lstm_bias == "keras":
                    lstm.bias_hh_l0.requires_grad_(False)

    def forward(self, x):  # x (B, T, S)
        h = x.unsqueeze(1)
        for conv in self.convs:
            h = F.relu(conv(h))  # (B, F, T', S)
        b, f, t, s = h.shape
        h = h.permute(0, 2, 3, 1).reshape(b, t, s * f)  # (B, T', S*F), sensor-major
        h, _ = self.lstm1(h)
        h, _ = self.lstm2(h)
        return self.fc(h[:, -1])


def check_lstm_function():
    """nn.LSTM with b_hh = 0 is the Keras / Swift LSTM: one step-by-step evaluation of
    z = x W + h U + b; i, f, o = sigmoid, g = tanh; c = f c + i g; h = o tanh(c) (gates i f g o).
    Returns the largest difference on a small random case."""
    gen = torch.Generator().manual_seed(1)
    lstm = nn.LSTM(7, 5, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.rand(p.shape, generator=gen) * 2 - 1)
        lstm.bias_hh_l0.zero_()
        x = torch.rand(3, 6, 7, generator=gen) * 2 - 1
        out, _ = lstm(x)
        w, u, b, n = lstm.weight_ih_l0.T, lstm.weight_hh_l0.T, lstm.bias_ih_l0, 5
        h = c = torch.zeros(3, n)
        worst = 0.0
        for t in range(6):
            z = x[:, t] @ w + h @ u + b
            i, f, g, o = z[:, :n].sigmoid(), z[:, n:2 * n].sigmoid(), z[:, 2 * n:3 * n].tanh(), z[:, 3 * n:].sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            worst = max(worst, float((out[:, t] - h).abs().max()))
    return worst


def build(name, lstm_bias="keras"):
    filters, units = WIDTHS[name]
    _, sensors, classes = SHAPES[name]
    return DeepConvLSTM(filters, units, sensors=sensors, classes=classes, lstm_bias=lstm_bias)


# ----------------------------------------------------------------------------- timing, output
class CpuWatch:
    """How much CPU *other* processes used while we were timing (the machine is shared), as in
    the CNN anchors do it: foreign_cores = (machine busy CPU-seconds - this process's) /
    wall seconds, from /proc/stat and os.times()."""

    @staticmethod
    def _snap():
        with open("/proc/stat") as f:
            v = list(map(int, f.readline().split()[1:9]))
        hz = os.sysconf("SC_CLK_TCK")
        busy = (sum(v) - v[3] - v[4]) / hz
        t = os.times()
        return time.perf_counter(), busy, t.user + t.system + t.children_user + t.children_system

    def __enter__(self):
        self.s0 = self._snap()
        return self

    def __exit__(self, *exc):
        w0, b0, o0 = self.s0
        w1, b1, o1 = self._snap()
        self.foreign_cores = round(max(0.0, (b1 - b0) - (o1 - o0)) / max(w1 - w0, 1e-9), 2)
        self.own_cores = round((o1 - o0) / max(w1 - w0, 1e-9), 2)
        return False


def train_summary(epoch_times, epoch_foreign, epoch_own, samples, accept):
    """samples/s over the timed epochs (all but the first) on which other processes used
    <= accept cores; if none was clean, over all timed epochs and clean_epochs = 0."""
    timed = epoch_times[1:]
    clean = [t for t, f in zip(timed, epoch_foreign[1:]) if f <= accept]
    use = clean or timed
    return {
        "train_samples_per_sec": round(samples * len(use) / sum(use), 1),
        "clean_epochs": len(clean),
        "train_samples_per_sec_all_timed": round(samples * len(timed) / sum(timed), 1),
        "samples_per_sec_epochs": [round(samples / t, 1) for t in timed],
        "epoch_foreign_cpu_cores": epoch_foreign,
        "epoch_own_cpu_cores": epoch_own,
        "epoch_times_s": [round(t, 3) for t in epoch_times],
    }


def emit(record, out=None):
    record.setdefault("date_utc", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    record.setdefault("python", platform.python_version())
    record.setdefault("host_cpus", os.cpu_count())
    line = json.dumps(record, sort_keys=False)
    print(line, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")


# ----------------------------------------------------------------------------- main
def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(a.threads)
    torch.manual_seed(a.seed)

    length, sensors, classes = SHAPES[a.model]
    x_np, y_np = make_data(a.samples, a.seed, length, sensors, classes)
    X = torch.from_numpy(x_np)  # (N, T, S): the model takes Swift's layout as it is
    Y = torch.from_numpy(y_np)

    filters, units = WIDTHS[a.model]
    model = build(a.model, a.lstm_bias)
    trainable = [p for p in model.parameters() if p.requires_grad]
    params = sum(p.numel() for p in trainable)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    if a.summary:
        rows = [(n, tuple(p.shape), p.numel(), p.requires_grad) for n, p in model.named_parameters()]
        for n, shape, count, grad in rows:
            print(f"{n:<24}{str(shape):<18}{count:>10,}{'' if grad else '  frozen'}", file=sys.stderr)
        print(f"{'trainable':<42}{params:>10,}", file=sys.stderr)
    hand = expected_params(filters, units, sensors, classes) + (0 if a.lstm_bias == "keras" else 4 * units * 2)
    assert params == hand, f"{a.model}: {params} trainable parameters, {hand} derived by hand"
    if a.expect_params is not None:
        assert params == a.expect_params, (
            f"{a.model}: {params} trainable parameters here, {a.expect_params} in the Swift model")

    lstm_error = check_lstm_function()
    assert lstm_error < 1e-5, f"nn.LSTM differs from the Keras LSTM formula by {lstm_error}"

    opt = torch.optim.Adam(trainable, lr=1e-3)

    def step(xb, yb):
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    g = torch.Generator().manual_seed(a.seed)
    epoch_times, epoch_foreign, epoch_own, last_loss = [], [], [], float("nan")
    model.train()
    for _ in range(a.epochs):
        with CpuWatch() as w:
            t0 = time.perf_counter()
            perm = torch.randperm(a.samples, generator=g)
            tot, nb = 0.0, 0
            for i in range(0, a.samples, a.batch):
                idx = perm[i:i + a.batch]
                loss = step(X[idx], Y[idx])
                tot += loss.item()
                nb += 1
            epoch_times.append(time.perf_counter() - t0)
        epoch_foreign.append(w.foreign_cores)
        epoch_own.append(w.own_cores)
        last_loss = tot / nb

    rec = {"framework": "torch", "version": torch.__version__, "model": a.model, "mode": a.mode,
           "threads": a.threads, "batch": a.batch, "samples": a.samples, "epochs": a.epochs,
           "window": [length, sensors], "classes": classes, "lstm_bias": a.lstm_bias}
    rec.update(train_summary(epoch_times, epoch_foreign, epoch_own, a.samples, a.accept))
    rec["final_epoch_loss"] = round(last_loss, 4)
    rec["params"] = params
    rec["lstm_max_abs_diff_vs_keras_formula"] = lstm_error
    if frozen:
        rec["params_frozen"] = frozen
    emit(rec, a.out)


if __name__ == "__main__":
    main()
