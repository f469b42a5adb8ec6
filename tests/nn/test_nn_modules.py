"""nn modules: forward passes against NumPy, gradients against finite differences, state."""

import numpy as np
import pytest
from scipy.special import expit, logsumexp

import dualtape as dt
from dualtape import nn


def val(x):
    """The plain value of a module's output (a Tensor, or an array for constant inputs)."""
    return x.data if isinstance(x, dt.Tensor) else np.asarray(x)


def fd_grad(f, x, eps=1e-6):
    """Central differences of scalar f at array x (x is modified and restored)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        hi = f()
        x[i] = old - eps
        lo = f()
        x[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g


def check_module_grads(model, loss_of_output, x, rtol=1e-5, atol=1e-7):
    """Backward through model + loss against finite differences for every parameter."""
    model.zero_grad()
    loss_of_output(model(x)).backward()
    for name, p in model.named_parameters():
        got = p.grad
        with dt.no_grad():
            expected = fd_grad(lambda: float(loss_of_output(model(x)).data), p.data)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=name)


# ---- Parameter and Module ----

def test_parameter_is_a_float_leaf_tensor_copy():
    src = np.array([1, 2])
    p = nn.Parameter(src)
    assert isinstance(p, dt.Tensor) and p.requires_grad and p.is_leaf
    assert p.data.dtype == np.float64 and p.data is not src
    (np.sum(p * p)).backward()
    np.testing.assert_array_equal(p.grad, [2.0, 4.0])


class Block(nn.Module):
    def __init__(self, shared):
        super().__init__()
        self.lin = nn.Linear(2, 2, rng=0)
        self.scale = shared
        self.register_buffer("count", np.zeros(1))

    def forward(self, x):
        return self.lin(x) * self.scale


def test_parameters_are_discovered_in_order_once():
    shared = nn.Parameter(np.ones(2))
    model = nn.Sequential(Block(shared), Block(shared))
    names = [n for n, _ in model.named_parameters()]
    # a module's own parameters first, then its children's (as PyTorch lists them)
    assert names == ["0.scale", "0.lin.weight", "0.lin.bias", "1.lin.weight", "1.lin.bias"]
    assert len(model.parameters()) == 5 and model.num_parameters() == 2 * 6 + 2
    assert [n for n, _ in model.named_buffers()] == ["0.count", "1.count"]


def test_state_dict_round_trip_and_errors():
    a, b = nn.mlp((3, 4, 2), batchnorm=True, rng=0), nn.mlp((3, 4, 2), batchnorm=True, rng=1)
    a(np.random.default_rng(0).standard_normal((5, 3)))  # moves the running statistics
    state = a.state_dict()
    assert set(state) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                          "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"}
    ids = [id(p) for p in b.parameters()]
    b.load_state_dict(state)
    assert [id(p) for p in b.parameters()] == ids  # same objects, new values
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    state["0.weight"][...] = 7.0  # a copy: the model is untouched
    assert not np.any(a[0].weight.data == 7.0)
    with pytest.raises(KeyError, match="missing keys \\['3.bias'\\]"):
        b.load_state_dict({k: v for k, v in state.items() if k != "3.bias"})
    with pytest.raises(ValueError, match="0.weight has shape"):
        b.load_state_dict({**state, "0.weight": np.zeros((2, 2))})


def test_train_eval_and_zero_grad_reach_all_submodules():
    model = nn.mlp((3, 4, 2), batchnorm=True, dropout=0.5, rng=0)
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    nn.CrossEntropyLoss()(model(np.ones((4, 3))), np.array([0, 1, 0, 1])).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ---- Linear ----

def test_linear_forward_init_and_seed(rng):
    lin = nn.Linear(5, 3, rng=1)
    bound = 1 / np.sqrt(5)
    assert lin.weight.data.shape == (3, 5) and np.abs(lin.weight.data).max() <= bound
    assert np.abs(lin.bias.data).max() <= bound
    np.testing.assert_array_equal(nn.Linear(5, 3, rng=1).weight.data, lin.weight.data)
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-14)
    # single samples and extra leading axes take the generic path
    np.testing.assert_allclose(lin(x[0]).data, x[0] @ lin.weight.data.T + lin.bias.data)
    x3 = rng.standard_normal((2, 4, 5))
    np.testing.assert_allclose(lin(x3).data, x3 @ lin.weight.data.T + lin.bias.data)
    nobias = nn.Linear(5, 3, bias=False, rng=1)
    assert nobias.bias is None and len(nobias.parameters()) == 1


def test_default_generator_is_seeded():
    nn.manual_seed(5)
    a = nn.Linear(3, 3).weight.data
    nn.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.data, a)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 2, 3)])
def test_linear_gradients(rng, bias, shape):
    lin = nn.Linear(3, 2, bias=bias, rng=0)
    x = rng.standard_normal(shape)
    check_module_grads(lin, lambda out: np.sum(np.sin(out)), x)


def test_input_gradient_through_linear(rng):
    lin = nn.Linear(3, 2, rng=0)
    x = dt.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    np.sum(lin(x) ** 2).backward()
    with dt.no_grad():
        expected = fd_grad(lambda: float(np.sum(lin(x.data).data ** 2)), x.data)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6)


# ---- BatchNorm1d ----

def test_batchnorm_training_forward_and_running_statistics(rng):
    bn = nn.BatchNorm1d(3)
    bn.weight.data = np.array([1.0, 2.0, 0.5])
    bn.bias.data = np.array([0.0, -1.0, 3.0])
    batches = [rng.standard_normal((8, 3)) * [1, 5, 0.1] + [0, 2, -1] for _ in range(2)]
    rm, rv = np.zeros(3), np.ones(3)
    for x in batches:
        y = bn(x).data
        ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) * bn.weight.data + bn.bias.data
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        alpha = 0.9  # the course's alpha = 1 - momentum
        rm = alpha * rm + (1 - alpha) * x.mean(0)
        rv = alpha * rv + (1 - alpha) * x.var(0, ddof=1)  # unbiased for the running value
    np.testing.assert_allclose(bn.running_mean, rm, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, rv, rtol=1e-12)
    assert int(bn.num_batches_tracked) == 2


def test_batchnorm_eval_uses_running_statistics_and_does_not_update(rng):
    bn = nn.BatchNorm1d(2)
    bn(rng.standard_normal((10, 2)) * 3 + 1)
    rm, rv = bn.running_mean.copy(), bn.running_var.copy()
    bn.eval()
    x = rng.standard_normal((1, 2))  # a single sample is fine in eval mode
    np.testing.assert_allclose(bn(x).data, (x - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, rm)
    np.testing.assert_array_equal(bn.running_var, rv)


def test_batchnorm_cumulative_average_and_no_tracking(rng):
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [rng.standard_normal((5, 2)) for _ in range(3)]
    for x in xs:
        bn(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(0) for x in xs], axis=0))
    free = nn.BatchNorm1d(2, track_running_stats=False).eval()
    x = xs[0]
    np.testing.assert_allclose(free(x).data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))
    assert [n for n, _ in free.named_buffers()] == []


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 sample"):
        bn(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, 3\)"):
        bn(np.ones((4, 2)))


def test_batchnorm_gradients_train_and_eval(rng):
    bn = nn.BatchNorm1d(3)
    bn.weight.data = rng.uniform(0.5, 2.0, 3)
    bn.bias.data = rng.standard_normal(3)
    x = rng.standard_normal((6, 3))
    w = rng.standard_normal((6, 3))
    check_module_grads(bn, lambda out: np.sum(np.tanh(out) * w), x)
    bn.eval()
    check_module_grads(bn, lambda out: np.sum(np.tanh(out) * w), x)
    # d/dx in training mode, where the batch statistics depend on x
    bn.train()
    xt = dt.Tensor(x.copy(), requires_grad=True)
    np.sum(np.tanh(bn(xt)) * w).backward()
    with dt.no_grad():
        expected = fd_grad(lambda: float(np.sum(np.tanh(bn(xt.data).data) * w)), xt.data)
    np.testing.assert_allclose(xt.grad, expected, rtol=1e-5, atol=1e-8)


# ---- activations, dropout, containers ----

@pytest.mark.parametrize("layer,ref", [(nn.ReLU(), lambda x: np.maximum(x, 0)),
                                       (nn.Sigmoid(), expit), (nn.Tanh(), np.tanh),
                                       (nn.Identity(), lambda x: x)])
def test_activations(rng, layer, ref):
    x = rng.uniform(0.1, 2, (3, 4)) * rng.choice([-1, 1], (3, 4))
    np.testing.assert_allclose(val(layer(x)), ref(x))
    xt = dt.Tensor(x, requires_grad=True)
    np.sum(layer(xt) * x).backward()
    probe = x.copy()
    expected = fd_grad(lambda: float(np.sum(ref(probe) * x)), probe)
    np.testing.assert_allclose(xt.grad, expected, rtol=1e-6, atol=1e-9)


def test_dropout_masks_scales_and_restores_rng():
    d = nn.Dropout(0.25, rng=3)
    x = np.ones((200, 50))
    y = val(d(x))
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.01
    state = d.get_extra_state()
    first = val(d(x))
    d.set_extra_state(state)
    np.testing.assert_array_equal(val(d(x)), first)
    assert d.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(val(nn.Dropout(1.0)(x)) == 0)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)
    xt = dt.Tensor(np.ones(10), requires_grad=True)
    d.train()
    out = d(xt)
    np.sum(out).backward()
    np.testing.assert_array_equal(xt.grad, out.data)  # mask / (1 - p) is the derivative


def test_sequential_and_mlp(rng):
    model = nn.mlp((4, 6, 5, 3), batchnorm=True, activation="tanh", rng=0)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Linear", "BatchNorm1d", "Tanh", "Linear"]
    x = rng.standard_normal((7, 4))
    h = x
    for layer in model:
        h = layer(h)
    np.testing.assert_array_equal(model(x).data, h.data)
    assert "(0): Linear(4, 6, bias=True)" in repr(model)
    with pytest.raises(TypeError, match="argument 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(ValueError, match="unknown activation"):
        nn.mlp((2, 2), activation="gelu")


def test_whole_network_gradient_against_finite_differences(rng):
    model = nn.mlp((4, 5, 3), batchnorm=True, rng=0)
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    loss_fn = nn.CrossEntropyLoss()
    check_module_grads(model, lambda out: loss_fn(out, y), x)


# ---- losses ----

def test_cross_entropy_loss(rng):
    z, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    loss = nn.CrossEntropyLoss()(z, y)
    assert float(loss) == pytest.approx(np.mean(logsumexp(z, 1) - z[np.arange(5), y]), 1e-14)
    zt = dt.Tensor(z.copy(), requires_grad=True)
    nn.CrossEntropyLoss()(zt, y).backward()
    p = np.exp(z - logsumexp(z, 1, keepdims=True))
    np.testing.assert_allclose(zt.grad, (p - np.eye(4)[y]) / 5, rtol=1e-12)
    with pytest.raises(ValueError, match="integer class labels"):
        nn.CrossEntropyLoss()(z, y.astype(float))
    with pytest.raises(ValueError, match="labels must be in 0..3"):
        nn.CrossEntropyLoss()(z, np.array([0, 1, 2, 3, 4]))
    with pytest.raises(ValueError, match="logits of shape"):
        nn.CrossEntropyLoss()(z[0], y[:1])


def test_mse_loss(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    assert float(nn.MSELoss()(a, b)) == pytest.approx(np.mean((a - b) ** 2))
    at = dt.Tensor(a, requires_grad=True)
    nn.MSELoss()(at, b).backward()
    np.testing.assert_allclose(at.grad, 2 * (a - b) / a.size)
