"""Logic gates with dualtape.nn: AND with one neuron, XOR only with a hidden layer.

Shows: the smallest training loops on the object API (forward, loss.backward(),
optimizer.step()). A single sigmoid neuron learns AND, which is linearly separable,
but cannot learn XOR (its best mean squared error is 0.25: it must get one input
wrong); a 2-4-1 tanh network learns XOR. Prints the truth tables and writes
gates_xor.png (the decision regions) when matplotlib is installed.

Run: python examples/gates_mlp.py        (DUALTAPE_QUICK=1: fewer steps)
"""

from __future__ import annotations

import os
import sys

import numpy as np

from dualtape import nn, optim

QUICK = bool(os.environ.get("DUALTAPE_QUICK"))
STEPS = 1500 if QUICK else 4000
X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATES = {"AND": np.array([0.0, 0.0, 0.0, 1.0]), "XOR": np.array([0.0, 1.0, 1.0, 0.0])}


def neuron(seed: int) -> nn.Module:
    return nn.Sequential(nn.Linear(2, 1, rng=seed), nn.Sigmoid())


def two_layer(seed: int) -> nn.Module:
    return nn.Sequential(nn.Linear(2, 4, rng=seed), nn.Tanh(), nn.Linear(4, 1, rng=seed + 1),
                         nn.Sigmoid())


def train(model: nn.Module, target: np.ndarray, steps: int = STEPS) -> float:
    """Full-batch SGD with momentum on the mean squared error; returns the final loss."""
    opt = optim.SGD(model.parameters(), lr=2.0, momentum=0.9)
    loss_fn = nn.MSELoss()
    y = target[:, None]
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x).data)[:, 0]


def table(name: str, model: nn.Module, target: np.ndarray, loss: float) -> bool:
    out = predict(model, X)
    ok = bool(np.all((out > 0.5) == (target > 0.5)))
    print(f"{name}: final loss {loss:.4f} -> {'learned' if ok else 'NOT learned'}")
    for (a, b), t, o in zip(X, target, out):
        print(f"   {a:.0f} {b:.0f} | target {t:.0f}  output {o:.3f}")
    return ok


def plot(model: nn.Module, path: str) -> None:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print("(matplotlib not installed: no gates_xor.png)")
        return
    g = np.linspace(-0.25, 1.25, 121)
    xx, yy = np.meshgrid(g, g)
    zz = predict(model, np.column_stack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    fig = Figure(figsize=(4.5, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cs = ax.contourf(xx, yy, zz, levels=np.linspace(0, 1, 11), cmap="coolwarm")
    fig.colorbar(cs, ax=ax, label="network output")
    ax.scatter(X[:, 0], X[:, 1], c=GATES["XOR"], cmap="coolwarm", edgecolors="k", s=120)
    ax.set(title="XOR with a 2-4-1 tanh network", xlabel="$x_1$", ylabel="$x_2$")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> int:
    ok = True
    model = neuron(0)
    ok &= table("AND, one neuron", model, GATES["AND"], train(model, GATES["AND"]))
    model = neuron(0)
    loss = train(model, GATES["XOR"])
    table("XOR, one neuron", model, GATES["XOR"], loss)
    ok &= loss > 0.2  # no line separates XOR: the best a single neuron does is 0.25
    model = two_layer(0)
    ok &= table("XOR, 2-4-1 network", model, GATES["XOR"], train(model, GATES["XOR"]))
    plot(model, "gates_xor.png")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
