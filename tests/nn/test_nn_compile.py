"""Trainer(compile=...): the replayed training step gives the eager run, bit for bit.

Runs on synthetic data (no optional extras): every test trains the same seeded model
twice, eagerly and replayed, and compares the per-batch losses, the validation curve,
the parameters, the BatchNorm running statistics and the dropout generators' states.
The fallbacks (unknown modules, a failing replay, an impure module) and the typed error
of compile=True are exercised as well.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from dualtape import nn, optim
from dualtape.data import DataLoader
from dualtape.nn.stateless import StepState, functional_step

compiled_step = importlib.import_module("dualtape.nn.compiled_step")


def blobs(n=230, d=12, classes=4, seed=0):
    """Gaussian blobs: 230 samples give batches of 50 and a last one of 30."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(classes, d))
    y = rng.integers(0, classes, n)
    return centres[y] + rng.normal(size=(n, d)), y


def make(compile, sizes=(12, 16, 4), batchnorm=True, dropout=0.0, opt="sgd", loss=None,
         model=None, **kwargs):
    model = model if model is not None else nn.mlp(sizes, batchnorm=batchnorm,
                                                   dropout=dropout, rng=0)
    params = [p for p in model.parameters() if p.requires_grad]
    o = (optim.SGD(params, lr=0.1, momentum=0.9) if opt == "sgd"
         else optim.Adam(params, lr=0.01))
    return nn.Trainer(model, o, loss, progress=False, plot=False, val_every=3,
                      compile=compile, **kwargs)


def fit(trainer, data=None, epochs=4, batch_size=50):
    X, y = data if data is not None else blobs()
    loader = DataLoader(X, y, batch_size=batch_size, seed=0)
    return trainer.fit(loader, (X[:60], y[:60]), epochs=epochs)


def state_of(trainer):
    out = {k: np.array(v, copy=True) for k, v in trainer.model.state_dict().items()}
    for i, m in enumerate(trainer.model.modules()):
        if isinstance(m, nn.Dropout):
            out[f"rng{i}"] = m.generator.random(3)  # the next draws: the same state
    return out


def assert_same_run(eager, replayed, h_eager, h_replayed, tol=0.0):
    assert eager.compiled is False and replayed.compiled is True, replayed.compile_error
    le, lr = np.array(h_eager.train["loss"]), np.array(h_replayed.train["loss"])
    assert le.shape == lr.shape and le.size > 0
    np.testing.assert_allclose(lr, le, rtol=0, atol=tol)
    ve = [e["val_loss"] for e in h_eager.evals]
    vr = [e["val_loss"] for e in h_replayed.evals]
    np.testing.assert_allclose(vr, ve, rtol=0, atol=tol)
    assert h_eager.val_accuracy == h_replayed.val_accuracy
    se, sr = state_of(eager), state_of(replayed)
    assert se.keys() == sr.keys()
    for k in se:
        np.testing.assert_allclose(sr[k], se[k], rtol=0, atol=tol, err_msg=k)


@pytest.mark.parametrize("config", [
    dict(),                                                   # the course shape: BN + ReLU
    dict(dropout=0.3),                                        # BN + dropout
    dict(batchnorm=False, dropout=0.5, opt="adam", sizes=(12, 16, 8, 4)),
    dict(sizes=(12, 16, 8, 4), dropout=0.2, opt="adam"),      # two BN, two dropout layers
], ids=["bn", "bn-dropout", "dropout-adam", "deep"])
def test_replayed_training_is_the_eager_run_bit_for_bit(config):
    eager, replayed = make(False, **config), make(True, **config)
    h_eager, h_replayed = fit(eager), fit(replayed)
    assert_same_run(eager, replayed, h_eager, h_replayed)
    cf = replayed._step_fn.cf
    assert len(cf.variants) == 2 and cf.retraces == 1  # batches of 50, the last of 30


def test_regression_with_mse_and_tanh():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (90, 3))
    y = np.sin(X @ np.array([1.0, -2.0, 0.5]))[:, None]
    runs = []
    for compile in (False, "auto"):
        model = nn.mlp((3, 10, 1), activation="tanh", rng=0)
        t = make(compile, model=model, loss=nn.MSELoss(), opt="adam")
        runs.append((t, fit(t, (X, y), epochs=6, batch_size=30)))
    (eager, h_eager), (replayed, h_replayed) = runs
    assert_same_run(eager, replayed, h_eager, h_replayed)
    assert h_replayed.final["val_accuracy"] is None
    assert h_replayed.train["loss"][-1] < 0.5 * h_replayed.train["loss"][0]


def test_frozen_parameters_are_not_updated():
    runs = []
    for compile in (False, True):
        model = nn.mlp((12, 16, 4), rng=0)
        model[0].bias.requires_grad = False
        frozen = model[0].bias.data.copy()
        t = make(compile, model=model)
        runs.append((t, fit(t, epochs=2)))
        np.testing.assert_array_equal(model[0].bias.data, frozen)
    (eager, h_eager), (replayed, h_replayed) = runs
    assert_same_run(eager, replayed, h_eager, h_replayed)


# ---- fallbacks and compile=True's error ----

class Scale(nn.Module):
    """A user module: pure, but unknown to compile="auto"."""

    def __init__(self):
        super().__init__()
        self.s = nn.Parameter(np.ones(4))

    def forward(self, x):
        return x * self.s


class ReadsData(Scale):
    """Impure for a recording: reads its parameter's plain value (frozen when recorded)."""

    def forward(self, x):
        return x * self.s + 0.1 * np.tanh(self.s.data)


def with_module(module):
    return nn.Sequential(nn.Linear(12, 4, rng=0), module)


def test_auto_leaves_unknown_modules_eager_and_true_replays_them():
    auto = make("auto", model=with_module(Scale()))
    assert not auto.compiled and "Scale" in auto.compile_error
    h_auto = fit(auto, epochs=2)
    forced = make(True, model=with_module(Scale()))
    h_forced = fit(forced, epochs=2)
    eager = make(False, model=with_module(Scale()))
    h_eager = fit(eager, epochs=2)
    assert h_auto.train["loss"] == h_eager.train["loss"]
    assert_same_run(eager, forced, h_eager, h_forced)


def test_an_impure_module_is_caught_by_the_check():
    with pytest.raises(nn.CompileError, match="disagrees with the eager step"):
        fit(make(True, model=with_module(ReadsData())), epochs=2)


def test_a_failing_replay_falls_back_with_the_dropout_draws_intact(monkeypatch):
    real_call, calls = compiled_step.CompiledStep.__call__, []

    def flaky(self, xb, yb):
        calls.append(1)
        if len(calls) == 7:  # fails after drawing the masks
            self._probe(xb, yb)
            [d.draw_mask((3, 3)) for d in self.dropouts]
            raise RuntimeError("the replay broke")
        return real_call(self, xb, yb)

    eager = make(False, dropout=0.4)
    h_eager = fit(eager)
    monkeypatch.setattr(compiled_step.CompiledStep, "__call__", flaky)
    auto = make("auto", dropout=0.4)
    h_auto = fit(auto)
    assert not auto.compiled
    assert auto.compile_error == ("fell back to eager steps at step 7: RuntimeError: the "
                                  "replay broke")
    assert h_auto.train["loss"] == h_eager.train["loss"]  # no draw lost or repeated
    se, sa = state_of(eager), state_of(auto)
    for k in se:
        np.testing.assert_array_equal(sa[k], se[k], err_msg=k)
    calls.clear()
    with pytest.raises(nn.CompileError, match="the replay broke"):
        fit(make(True, dropout=0.4))


def test_the_steps_own_error_is_raised_as_in_eager():
    X, y = blobs()
    y = y.copy()
    y[120] = 7  # a label out of range, in the third batch of the first epoch
    for compile in (False, True):
        with pytest.raises(ValueError, match="labels must be in 0..3"):
            fit(make(compile), (X, y), epochs=1)


def test_compile_argument_is_checked():
    with pytest.raises(ValueError, match="compile must be 'auto', True or False"):
        make("always")


# ---- the pure step's building blocks ----

def test_shape_probe_draws_nothing_and_updates_nothing():
    model = nn.mlp((5, 6, 3), batchnorm=True, dropout=0.5, rng=0)
    bn, drop = model[1], model[3]
    before = drop.generator.bit_generator.state
    with functional_step(StepState()) as probe:
        out = model(np.ones((4, 5)))
    assert drop.generator.bit_generator.state == before
    assert bn.num_batches_tracked == 0 and np.all(bn.running_mean == 0)
    assert probe.mask_shapes == [(drop, (4, 6))] and probe.stats[0][0] is bn
    assert out.shape == (4, 3)


def test_functional_batchnorm_reports_what_eager_applies():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 4))
    eager, pure = nn.BatchNorm1d(4), nn.BatchNorm1d(4)
    y_eager = eager(x).data
    with functional_step(StepState(masks=[])) as st:
        y_pure = pure(x).data
    (_, mean, var), = st.stats
    pure._update_running(mean, var)
    np.testing.assert_array_equal(y_pure, y_eager)
    np.testing.assert_array_equal(pure.running_mean, eager.running_mean)
    np.testing.assert_array_equal(pure.running_var, eager.running_var)
