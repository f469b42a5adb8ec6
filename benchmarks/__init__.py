"""Speed suite: dualtape against hand-coded NumPy and the peers (autograd, PyTorch, JAX).

Run it with ``python -m benchmarks [--quick] [--only PATTERN] [--json F] [--markdown F]``.
Every ratio is ``t(tool) / t(baseline)`` with both times measured in the same run; see
``benchmarks/README.md``. This package imports no peer (and not even NumPy) at import
time, so that the runner can pin thread counts before any numerical library loads.
"""

__all__: list[str] = []
