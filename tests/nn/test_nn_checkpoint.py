"""Checkpoint files: what they hold, atomic replacement, clear errors."""

import os

import numpy as np
import pytest

import dualtape as dt
from dualtape import nn, optim
from dualtape.nn.checkpoint import load_checkpoint, save_checkpoint


def trained(seed=0, dropout=0.3):
    model = nn.mlp((3, 5, 2), batchnorm=True, dropout=dropout, rng=seed)
    opt = optim.Adam(model.parameters(), lr=0.01)
    x, y = np.random.default_rng(seed).standard_normal((8, 3)), np.arange(8) % 2
    for _ in range(3):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        opt.step()
    return model, opt


def test_round_trip_restores_model_optimizer_and_dropout_rng(tmp_path):
    model, opt = trained(0)
    path = tmp_path / "ck.npz"
    save_checkpoint(path, model, opt, epoch=2, rng={"big": 2**100}, history=[1.5, None])
    other, other_opt = trained(1)
    meta = load_checkpoint(path, other, other_opt)
    assert meta == {"epoch": 2, "rng": {"big": 2**100}, "history": [1.5, None]}
    for (name, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert other_opt.step_count == 3
    for s, t in zip(opt.state, other_opt.state):
        np.testing.assert_array_equal(s["m"], t["m"])
        np.testing.assert_array_equal(s["v"], t["v"])
    x = np.ones((4, 3))
    np.testing.assert_array_equal(model(x).data, other(x).data)  # same dropout mask next


def test_replacement_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    model, opt = trained()
    path = tmp_path / "ck.npz"
    save_checkpoint(path, model, opt, epoch=1)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, opt, epoch=2)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.npz"]


def test_errors_name_the_problem(tmp_path):
    model, opt = trained()
    path = tmp_path / "ck.npz"
    save_checkpoint(path, model, opt)
    with pytest.raises(ValueError, match="does not fit this model"):
        load_checkpoint(path, nn.mlp((3, 6, 2), batchnorm=True, dropout=0.3, rng=0))
    sgd = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="holds no SGD state \\(found Adam\\)"):
        load_checkpoint(path, model, sgd)
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not a dualtape checkpoint"):
        load_checkpoint(tmp_path / "other.npz", model)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.npz", model)


def test_sgd_without_momentum_has_no_buffers(tmp_path):
    w = dt.Tensor(np.ones(2), requires_grad=True)
    model = nn.Module()
    model.w = w
    opt = optim.SGD([w], lr=0.5)
    w.grad = np.ones(2)
    opt.step()
    save_checkpoint(tmp_path / "c.npz", model, opt)
    opt2 = optim.SGD([w], lr=0.1)
    load_checkpoint(tmp_path / "c.npz", model, opt2)
    assert opt2.lr == 0.5 and opt2.step_count == 1 and opt2.state == [{}]
