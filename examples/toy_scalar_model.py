"""The course's scalar toy model y_hat = 4 sin(relu(w1 x^2 + w3) + relu(w2 x^2 + w3)).

Shows: a model with three scalar parameters written in plain NumPy inside an
``nn.Module``, fitted to noisy samples of the same model by SGD with momentum and
weight decay; the gradients come from the tape. Where both ReLUs are active the data
only determine w1 + w2, and weight decay (an L2 penalty) picks the smallest-norm
split, w1 = w2: the run shows the two weights drifting together after the fit itself
has converged. Writes toy_loss.png (training loss, log scale) and toy_fit.png.

Run: python examples/toy_scalar_model.py       (DUALTAPE_QUICK=1: fewer steps)
"""

from __future__ import annotations

import os
import sys

import numpy as np

import dualtape as dt
from dualtape import nn, optim

QUICK = bool(os.environ.get("DUALTAPE_QUICK"))
STEPS = 1500 if QUICK else 6000
TRUE_W = (0.6, 0.2, 0.1)  # w1, w2, w3 of the data


class ToyModel(nn.Module):
    """y_hat = 4 sin(relu(w1 x^2 + w3) + relu(w2 x^2 + w3)), three scalar parameters."""

    def __init__(self, w1: float, w2: float, w3: float) -> None:
        super().__init__()
        self.w1, self.w2, self.w3 = (nn.Parameter(w) for w in (w1, w2, w3))

    def forward(self, x):
        x2 = x * x
        return 4.0 * np.sin(np.maximum(self.w1 * x2 + self.w3, 0.0)
                            + np.maximum(self.w2 * x2 + self.w3, 0.0))


def make_data(n: int = 60, noise: float = 0.05, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, n)
    with dt.no_grad():
        y = ToyModel(*TRUE_W)(x).data + noise * rng.standard_normal(n)
    return x, y


def fit(x, y, weight_decay: float):
    model = ToyModel(0.9, -0.3, 0.3)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=weight_decay)
    losses, weights = [], []
    for _ in range(STEPS):
        loss = np.mean((model(x) - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        weights.append([float(p.data) for p in model.parameters()])
    return model, np.array(losses), np.array(weights)


def plot(x, y, runs) -> None:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print("(matplotlib not installed: no plots)")
        return
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for label, (_, losses, _) in runs.items():
        ax.plot(losses, label=label)
    ax.set(xlabel="step", ylabel="mean squared error", yscale="log", title="toy model: loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig("toy_loss.png", dpi=110)
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(x, y, "k.", label="data")
    grid = np.linspace(-1.5, 1.5, 200)
    with dt.no_grad():
        for label, (model, _, _) in runs.items():
            ax.plot(grid, model(grid).data, label=label)
    ax.set(xlabel="x", ylabel="y", title="toy model: fit")
    ax.legend()
    fig.tight_layout()
    fig.savefig("toy_fit.png", dpi=110)
    print("wrote toy_loss.png and toy_fit.png")


def main() -> int:
    x, y = make_data()
    print(f"data: 60 noisy samples of the model with (w1, w2, w3) = {TRUE_W}")
    runs = {}
    for wd in (0.0, 1e-2):
        label = f"weight decay {wd:g}"
        runs[label] = model, losses, weights = fit(x, y, wd)
        w1, w2, w3 = weights[-1]
        print(f"{label:>18}: loss {losses[0]:.3f} -> {losses[-1]:.4f};  w1 = {w1:+.3f}, "
              f"w2 = {w2:+.3f}, w3 = {w3:+.3f}, w1 + w2 = {w1 + w2:.3f} "
              f"(data: {TRUE_W[0] + TRUE_W[1]:.1f})")
    plot(x, y, runs)
    _, losses, weights = runs["weight decay 0.01"]
    gap = abs(weights[-1, 0] - weights[-1, 1])
    start_gap = abs(weights[len(weights) // 3, 0] - weights[len(weights) // 3, 1])
    ok = losses[-1] < 0.05 and gap < start_gap  # fitted, and decay pulls w1, w2 together
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
