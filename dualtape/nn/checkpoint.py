"""Checkpoints: model, optimizer and training state in one ``.npz``, written atomically.

The file is written to a temporary name in the same directory and renamed over the
target (:func:`dualtape.data.idx.atomic_output`), so a run killed at any instant
leaves either the previous checkpoint or the new one, never a torn file. Arrays are
stored as arrays; everything else (counters, RNG states, history) as one JSON string,
so loading needs no pickle.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..data.idx import atomic_output
from .module import Module

__all__ = ["load_checkpoint", "module_extra_states", "save_checkpoint"]

FORMAT = "dualtape-checkpoint-1"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"checkpoint metadata cannot hold a {type(obj).__name__}")


def module_extra_states(model: Module) -> dict[str, Any]:
    """``{module name: state}`` of the modules with ``get_extra_state`` (dropout RNGs)."""
    return {name or "<root>": m.get_extra_state() for name, m in model.named_modules()
            if hasattr(m, "get_extra_state")}


def save_checkpoint(path: str | os.PathLike, model: Module, optimizer: Any = None,
                    **meta: Any) -> None:
    """Write ``model`` (and ``optimizer``) state plus JSON-able ``meta`` atomically.

    Args:
        path: the ``.npz`` file to (re)place.
        model: its ``state_dict()`` and the extra state of its modules are saved.
        optimizer: its ``state_dict()`` is saved when given.
        **meta: anything JSON can hold (counters, RNG states, history...).

    >>> import os, tempfile, numpy as np
    >>> from dualtape.nn import Linear
    >>> a, b = Linear(2, 1, rng=0), Linear(2, 1, rng=1)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_checkpoint(os.path.join(d, "ck.npz"), a, epoch=3)
    ...     meta = load_checkpoint(os.path.join(d, "ck.npz"), b)
    >>> meta["epoch"], bool(np.all(a.weight.data == b.weight.data))
    (3, True)
    """
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    info: dict[str, Any] = {"format": FORMAT, "extra_states": module_extra_states(model),
                            "meta": meta}
    if optimizer is not None:
        state = optimizer.state_dict()
        for i, buffers in enumerate(state["state"]):
            for k, v in buffers.items():
                arrays[f"optim/{i}/{k}"] = v
        info["optimizer"] = {"class": type(optimizer).__name__, "n_params": len(state["state"]),
                             "hyperparameters": state["hyperparameters"],
                             "step_count": state["step_count"]}
    arrays["__info__"] = np.array(json.dumps(info, default=_json_default))
    with atomic_output(path) as f:
        np.savez(f, **arrays)


def load_checkpoint(path: str | os.PathLike, model: Module | None = None,
                    optimizer: Any = None) -> dict[str, Any]:
    """Load a checkpoint into ``model`` / ``optimizer`` (when given); return its ``meta``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not a dualtape checkpoint, or it does not fit the model/optimizer.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        if "__info__" not in data.files:
            raise ValueError(f"{path} is not a dualtape checkpoint (no __info__ entry)")
        info = json.loads(str(data["__info__"]))
        if info.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown checkpoint format {info.get('format')!r}")
        arrays = {k: data[k] for k in data.files if k != "__info__"}
    if model is not None:
        state = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
        try:
            model.load_state_dict(state)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path} does not fit this model: {exc}") from None
        for name, m in model.named_modules():
            extra = info["extra_states"].get(name or "<root>")
            if extra is not None and hasattr(m, "set_extra_state"):
                m.set_extra_state(extra)
    if optimizer is not None:
        opt = info.get("optimizer")
        if opt is None or opt["class"] != type(optimizer).__name__:
            raise ValueError(f"{path} holds no {type(optimizer).__name__} state "
                             f"(found {None if opt is None else opt['class']})")
        buffers: list[dict[str, np.ndarray]] = [{} for _ in range(opt["n_params"])]
        for k, v in arrays.items():
            if k.startswith("optim/"):
                _, i, name = k.split("/", 2)
                buffers[int(i)][name] = v
        optimizer.load_state_dict({"hyperparameters": opt["hyperparameters"],
                                   "step_count": opt["step_count"], "state": buffers})
    return info["meta"]
