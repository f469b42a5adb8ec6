"""``Module`` (parameters found automatically), ``Parameter`` and ``Sequential``.

A module's parameters are the leaf ``dt.Tensor`` attributes it holds, in the order
they were assigned, then those of its sub-modules; its buffers (running statistics)
are plain arrays named with :meth:`Module.register_buffer`. Nothing needs declaring
twice, so a user module is just::

    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones(3))
        def forward(self, x):
            return x * self.w
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..tape import Tensor

__all__ = ["Module", "Parameter", "Sequential"]


def Parameter(data: Any, requires_grad: bool = True) -> Tensor:  # noqa: N802 (a factory)
    """A trainable leaf: a float64 ``dt.Tensor`` with ``requires_grad=True``.

    A factory rather than a subclass, so parameters are ordinary Tensors for the core
    (its fast paths never need to know about them). Gradients land in ``p.grad``.

    >>> import numpy as np
    >>> p = Parameter(np.zeros(2)); p.requires_grad, p.data.dtype
    (True, dtype('float64'))
    """
    return Tensor(np.array(data, dtype=np.result_type(np.asarray(data), np.float64)),
                  requires_grad=requires_grad)


def _is_parameter(value: Any) -> bool:
    return isinstance(value, Tensor) and value.is_leaf


class Module:
    """Base class of layers and models. Subclasses implement ``forward``.

    >>> import numpy as np
    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(np.ones(2))
    ...     def forward(self, x):
    ...         return x * self.w
    >>> m = Scale(); [name for name, _ in m.named_parameters()]
    ['w']
    >>> m.eval().training
    False
    """

    training: bool = True
    _buffer_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- discovery ----
    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """Store a non-trainable array (e.g. running statistics) saved in the state_dict."""
        setattr(self, name, np.asarray(value))
        if name not in self._buffer_names:
            self._buffer_names = (*self._buffer_names, name)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all sub-modules, depth first, with dotted names."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, parameter)`` pairs; a shared parameter is listed once."""
        seen: set[int] = set()
        for mod_name, mod in self.named_modules(prefix):
            for name, value in vars(mod).items():
                if _is_parameter(value) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{mod_name}.{name}" if mod_name else name), value

    def parameters(self) -> list[Tensor]:
        """The trainable leaves, in a stable order (what optimizers take)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for mod_name, mod in self.named_modules():
            for name in mod._buffer_names:
                yield (f"{mod_name}.{name}" if mod_name else name), getattr(mod, name)

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.data.size for p in self.parameters()))

    # ---- state ----
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter and buffer value, by dotted name."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = np.array(p.data, copy=True)
        for name, b in self.named_buffers():
            state[name] = np.array(b, copy=True)
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy values into the existing parameters and buffers (same objects, new values).

        Raises:
            KeyError: with ``strict``, a missing or unexpected name (all are listed).
            ValueError: a value whose shape differs from the parameter's.
        """
        targets: dict[str, tuple[Module | None, str, Any]] = {
            name: (None, name, p) for name, p in self.named_parameters()}
        for mod_name, mod in self.named_modules():
            for b in mod._buffer_names:
                targets[f"{mod_name}.{b}" if mod_name else b] = (mod, b, None)
        missing = sorted(set(targets) - set(state))
        unexpected = sorted(set(state) - set(targets))
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected} for {type(self).__name__}")
        for name, value in state.items():
            if name not in targets:
                continue
            mod, attr, param = targets[name]
            value = np.asarray(value)
            current = param.data if param is not None else getattr(mod, attr)
            if np.shape(current) != value.shape:
                raise ValueError(f"load_state_dict: {name} has shape {value.shape} in the "
                                 f"state, {np.shape(current)} in the model")
            if param is not None:
                param.data = value.astype(np.result_type(current), copy=True)
            else:
                setattr(mod, attr, value.astype(np.result_type(current), copy=True))

    # ---- modes and gradients ----
    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on) for this module and its children."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (running statistics, dropout off)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget accumulated gradients (``p.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = [f"  ({name}): " + repr(m).replace("\n", "\n  ")
                    for name, m in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(children) + "\n)" if children else ")")


class Sequential(Module):
    """Modules applied in order; children are named ``"0"``, ``"1"``, ...

    >>> import numpy as np
    >>> from dualtape.nn import Linear, ReLU
    >>> net = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    >>> net(np.ones((5, 3))).shape, len(net), [n for n, _ in net.named_parameters()][:2]
    ((5, 2), 3, ['0.weight', '0.bias'])
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(layer).__name__}, "
                                "not a Module")
            setattr(self, str(i), layer)
        self._layers = tuple(layers)

    def forward(self, x: Any) -> Any:
        for layer in self._layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self._layers[i]

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers)
