"""`dualtape train`: the course experiment from the command line, MNIST files, resume."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from dualtape.cli import main
from dualtape.data import write_idx
from dualtape.nn.checkpoint import load_checkpoint

pytest.importorskip("sklearn")


def model_arrays(out_dir):
    with np.load(os.path.join(out_dir, "checkpoint.npz")) as data:
        return {k: data[k] for k in data.files if k.startswith("model/")}


def test_train_digits_writes_every_output(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "3", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Linear(64, 20, bias=True)" in text and "BatchNorm1d(20" in text
    assert "validation accuracy 0.9" in text
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "loss.png", "metrics.csv",
                                       "metrics.json", "validation_accuracy.png"]
    meta = load_checkpoint(out / "checkpoint.npz")
    assert meta["epoch"] == 3 and meta["config"]["sizes"] == [64, 20, 10]
    assert meta["config"]["lr"] == 0.1 and meta["config"]["momentum"] == 0.9


def test_options_build_the_asked_network(tmp_path, capsys):
    out = tmp_path / "wide"
    code = main(["train", "--epochs", "1", "--hidden", "32,16", "--no-batchnorm",
                 "--optimizer", "adam", "--dropout", "0.1", "--out", str(out),
                 "--no-progress", "--no-plot", "--seed", "3"])
    assert code == 0
    text = capsys.readouterr().out
    assert "Adam(lr=0.001" in text and "BatchNorm1d" not in text and "Dropout(p=0.1)" in text
    shapes = {k: v.shape for k, v in model_arrays(out).items()}
    assert shapes["model/0.weight"] == (32, 64) and shapes["model/6.weight"] == (10, 16)
    assert not any(n.endswith(".png") for n in os.listdir(out))


def test_resume_continues_to_the_same_result(tmp_path):
    common = ["--no-progress", "--no-plot", "--val-every", "7"]
    assert main(["train", "--epochs", "4", "--out", str(tmp_path / "a"), *common]) == 0
    assert main(["train", "--epochs", "2", "--out", str(tmp_path / "b"), *common]) == 0
    assert main(["train", "--epochs", "4", "--out", str(tmp_path / "b"), "--resume",
                 *common]) == 0
    a, b = model_arrays(tmp_path / "a"), model_arrays(tmp_path / "b")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    code = main(["train", "--epochs", "4", "--out", str(tmp_path / "b"), "--resume",
                 "--lr", "0.3", *common])
    assert code == 2


def synthetic_mnist(directory, n_train=300, n_test=100):
    """Tiny MNIST-format files whose label is readable from the image (a bright row)."""
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        images[np.arange(n), 2 * labels + 4, :] = 255
        write_idx(os.path.join(directory, f"{split}-images-idx3-ubyte.gz"), images)
        write_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte"), labels)


def test_mnist_from_a_directory_and_its_errors(tmp_path, capsys):
    synthetic_mnist(tmp_path)
    out = tmp_path / "run"
    code = main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "2",
                 "--out", str(out), "--no-progress", "--no-plot"])
    assert code == 0
    text = capsys.readouterr().out
    assert "Dataset(name='mnist', train=(300, 784), val=(100, 784)" in text
    assert "Linear(784, 20" in text
    assert main(["train", "--dataset", "mnist", "--out", str(out)]) == 2
    assert "--data-dir" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--dataset", "mnist", "--data-dir", str(empty), "--out", str(out)]) == 2
    assert "MNIST file(s) not found" in capsys.readouterr().err
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00")
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--out",
                 str(out)]) == 2
    assert "t10k-labels-idx1-ubyte" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_loss_exit_code(tmp_path, capsys):
    code = main(["train", "--epochs", "2", "--lr", "1e200", "--no-batchnorm", "--out",
                 str(tmp_path), "--no-progress", "--no-plot"])
    assert code == 1
    assert "stopped early: the training loss became" in capsys.readouterr().err


@pytest.mark.slow
def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    """A real `kill -9` of the training process while it writes checkpoints."""
    args = [sys.executable, "-m", "dualtape", "train", "--epochs", "20", "--val-every", "2",
            "--no-progress", "--no-plot", "--dropout", "0.1"]
    subprocess.run([*args, "--out", str(tmp_path / "ref")], check=True, capture_output=True)
    run = tmp_path / "run"
    proc = subprocess.Popen([*args, "--out", str(run)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not (run / "metrics.json").exists() and time.time() < deadline:
        time.sleep(0.02)  # metrics.json appears after the first epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = load_checkpoint(run / "checkpoint.npz")["step"]
    subprocess.run([*args, "--out", str(run), "--resume"], check=True, capture_output=True)
    assert killed_at < 300, "the run finished before it could be killed"
    ref, got = model_arrays(tmp_path / "ref"), model_arrays(run)
    for k in ref:
        np.testing.assert_array_equal(ref[k], got[k], err_msg=k)
