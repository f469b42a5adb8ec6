"""Optimizers and schedules against hand-computed steps."""

import numpy as np
import pytest

import dualtape as dt
from dualtape import nn, optim
from dualtape.tape import current_tape


def param(values):
    return dt.Tensor(np.array(values, dtype=float), requires_grad=True)


def run(opt, p, grads):
    out = []
    for g in grads:
        p.grad = np.array(g, dtype=float)
        opt.step()
        out.append(p.data.copy())
    return out


GRADS = [[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0]]


def test_plain_sgd_and_weight_decay():
    p = param([1.0, 2.0])
    got = run(optim.SGD([p], lr=0.1), p, GRADS[:1])
    np.testing.assert_allclose(got[0], [0.9, 2.2])
    p = param([1.0, 2.0])
    got = run(optim.SGD([p], lr=0.1, weight_decay=0.5), p, GRADS[:1])
    np.testing.assert_allclose(got[0], [1.0 - 0.1 * 1.5, 2.0 - 0.1 * (-2.0 + 1.0)])


def test_sgd_momentum_is_the_course_update():
    lr, beta = 0.1, 0.9
    p = param([1.0, 2.0])
    got = run(optim.SGD([p], lr=lr, momentum=beta), p, GRADS)
    w, v = np.array([1.0, 2.0]), np.zeros(2)
    for g, step in zip(GRADS, got):
        v = beta * v - lr * np.array(g)
        w = w + v
        np.testing.assert_allclose(step, w, rtol=1e-15)
    # ... which, at a constant learning rate, is PyTorch's v = beta v + g; w -= lr v
    w, v = np.array([1.0, 2.0]), np.zeros(2)
    for g in GRADS:
        v = beta * v + np.array(g)
        w = w - lr * v
    np.testing.assert_allclose(got[-1], w, rtol=1e-14)


def test_sgd_nesterov():
    lr, beta = 0.1, 0.9
    p = param([1.0, 2.0])
    got = run(optim.SGD([p], lr=lr, momentum=beta, nesterov=True), p, GRADS)
    w, v = np.array([1.0, 2.0]), np.zeros(2)
    for g, step in zip(GRADS, got):
        v = beta * v - lr * np.array(g)
        w = w + beta * v - lr * np.array(g)
        np.testing.assert_allclose(step, w, rtol=1e-15)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)


def test_adam_three_steps_by_hand():
    lr, (b1, b2), eps = 0.01, (0.9, 0.999), 1e-8
    p = param([1.0, 2.0])
    got = run(optim.Adam([p], lr=lr), p, GRADS)
    w, m, v = np.array([1.0, 2.0]), np.zeros(2), np.zeros(2)
    for t, (g, step) in enumerate(zip(GRADS, got), start=1):
        g = np.array(g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(step, w, rtol=1e-14)


def test_adam_weight_decay_and_adamw():
    p = param([2.0])
    run(optim.Adam([p], lr=0.1, weight_decay=1.0), p, [[0.0]])
    np.testing.assert_allclose(p.data, [2.0 - 0.1])  # L2 gradient 2.0, normalised to 1
    p = param([2.0])
    run(optim.AdamW([p], lr=0.1, weight_decay=1.0), p, [[1.0]])
    np.testing.assert_allclose(p.data, [2.0 * 0.9 - 0.1])


def test_steps_skip_missing_grads_and_never_record():
    a, b = param([1.0]), param([1.0])
    opt = optim.SGD([a, b], lr=0.5, momentum=0.5)
    tape = current_tape()
    before = len(tape)
    a.grad = np.array([1.0])
    opt.step()
    assert len(current_tape()) == before and current_tape() is tape
    assert dt.is_grad_enabled()
    np.testing.assert_array_equal(b.data, [1.0])
    np.testing.assert_array_equal(a.data, [0.5])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_state_dict_resumes_identically():
    def fresh():
        p = param([1.0, -1.0])
        return p, optim.Adam([p], lr=0.05)

    p, opt = fresh()
    run(opt, p, GRADS[:2])
    state, saved = opt.state_dict(), p.data.copy()
    full = run(opt, p, GRADS[2:])
    q, opt2 = fresh()
    q.data = saved
    opt2.load_state_dict(state)
    np.testing.assert_array_equal(run(opt2, q, GRADS[2:]), full)
    with pytest.raises(ValueError, match="2 parameters"):
        optim.SGD([param([1.0])], lr=1).load_state_dict({**state, "state": [{}, {}]})


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="requires_grad"):
        optim.SGD([dt.Tensor(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError):
        optim.Adam([param([1.0])], betas=(1.0, 0.9))


def test_schedules():
    opt = optim.SGD([param([0.0])], lr=1.0)
    s = optim.StepLR(opt, step_size=2, gamma=0.1)
    assert [round(s.step(), 12) for _ in range(5)] == [1.0, 0.1, 0.1, 0.01, 0.01]
    opt2 = optim.SGD([param([0.0])], lr=5.0)
    s2 = optim.StepLR(opt2, step_size=2, gamma=0.1)
    s2.load_state_dict(s.state_dict())
    assert opt2.lr == pytest.approx(0.01)
    opt = optim.SGD([param([0.0])], lr=2.0)
    e = optim.ExponentialLR(opt, gamma=0.5)
    assert [e.step() for _ in range(3)] == [1.0, 0.5, 0.25]
    opt = optim.SGD([param([0.0])], lr=1.0)
    c = optim.CosineAnnealingLR(opt, t_max=4, eta_min=0.1)
    lrs = [c.step() for _ in range(5)]
    assert lrs[1] == pytest.approx(0.55) and lrs[3] == lrs[4] == pytest.approx(0.1)


def test_training_a_module_with_sgd_decreases_the_loss(rng):
    model = nn.mlp((3, 8, 2), rng=0)
    x = rng.standard_normal((32, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    losses = []
    for _ in range(30):
        loss = nn.CrossEntropyLoss()(model(x), y)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[-1] < 0.5 * losses[0]
