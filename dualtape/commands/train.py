"""Train an MLP classifier with dualtape.nn: the course experiment by default.

Linear(in, 20) -> BatchNorm1d(20) -> ReLU -> Linear(20, 10), softmax cross-entropy,
SGD with lr 0.1 and momentum 0.9, batches of 100, validation every 100 batches and
after every epoch. On scikit-learn's 8x8 digits by default (offline); on MNIST with
--dataset mnist --data-dir DIR [--download]. The output directory receives
metrics.csv, metrics.json, validation_accuracy.png, loss.png and checkpoint.npz; a
killed run continues where its last checkpoint left off with --resume.
"""

from __future__ import annotations

import argparse
import os
import sys

HELP = "train an MLP on digits or MNIST (the course experiment), with resumable checkpoints"

#: Default epochs per dataset: digits has 15 batches per epoch, MNIST 600.
DEFAULT_EPOCHS = {"digits": 20, "mnist": 3}
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3}


def _widths(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden wants comma-separated integers, got "
                                         f"{text!r}") from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"--hidden widths must be >= 1, got {text!r}")
    return widths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = parser.add_argument_group("data")
    d.add_argument("--dataset", choices=("digits", "mnist"), default="digits",
                   help="digits (8x8, offline, default) or mnist (28x28, needs --data-dir)")
    d.add_argument("--data-dir", help="directory with the four MNIST IDX files (raw or .gz)")
    d.add_argument("--download", action="store_true",
                   help="fetch missing MNIST files into --data-dir (checksums verified)")
    m = parser.add_argument_group("model")
    m.add_argument("--hidden", type=_widths, default=[20], metavar="W[,W...]",
                   help="hidden layer widths, e.g. 256,256 (default 20)")
    m.add_argument("--no-batchnorm", dest="batchnorm", action="store_false",
                   help="no BatchNorm1d after the hidden Linear layers")
    m.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu")
    m.add_argument("--dropout", type=float, default=0.0, help="dropout after each hidden layer")
    o = parser.add_argument_group("optimisation")
    o.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    o.add_argument("--lr", type=float, help="learning rate (default: sgd 0.1, adam 0.001)")
    o.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    o.add_argument("--nesterov", action="store_true", help="Nesterov momentum (SGD)")
    o.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay")
    o.add_argument("--epochs", type=int,
                   help="epochs in total (default: digits 20, mnist 3); with --resume, a "
                        "larger number continues a finished run")
    o.add_argument("--batch-size", type=int, default=100)
    o.add_argument("--seed", type=int, default=0, help="seeds the split, init and shuffling")
    r = parser.add_argument_group("run")
    r.add_argument("--val-every", type=int, default=100,
                   help="validate and checkpoint every N batches (and after each epoch)")
    r.add_argument("--out", help="output directory (default runs/<dataset>)")
    r.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.npz if it exists")
    r.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar (plain lines are printed when tqdm is missing)")
    r.add_argument("--no-plot", dest="plot", action="store_false", help="skip the PNG plots")
    r.add_argument("--compile", action="store_true",
                   help="replay the training step from a dt.compile recording (the same "
                        "numbers as eager; not faster for these MLPs, see docs/replay.md)")


def load_dataset(args: argparse.Namespace):
    """The Dataset the arguments ask for (DataError / MissingDependencyError on failure)."""
    from dualtape.data import load_digits, load_mnist

    if args.dataset == "digits":
        return load_digits(seed=args.seed)
    return load_mnist(args.data_dir, download=args.download, seed=args.seed)


def build(args: argparse.Namespace, n_in: int, n_out: int):
    """``(model, optimizer, config)`` for the parsed arguments."""
    from dualtape import nn, optim

    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    model = nn.mlp([n_in, *args.hidden, n_out], batchnorm=args.batchnorm,
                   activation=args.activation, dropout=args.dropout, rng=args.seed)
    if args.optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=lr, momentum=args.momentum,
                        nesterov=args.nesterov, weight_decay=args.weight_decay)
    else:
        opt = optim.Adam(model.parameters(), lr=lr, weight_decay=args.weight_decay)
    config = {"dataset": args.dataset, "sizes": [n_in, *args.hidden, n_out],
              "batchnorm": args.batchnorm, "activation": args.activation,
              "dropout": args.dropout, "optimizer": args.optimizer, "lr": lr,
              "momentum": args.momentum if args.optimizer == "sgd" else None,
              "nesterov": args.nesterov, "weight_decay": args.weight_decay,
              "batch_size": args.batch_size, "seed": args.seed, "val_every": args.val_every,
              "epochs": args.epochs}
    return model, opt, config


def run(args: argparse.Namespace) -> int:
    from dualtape import nn
    from dualtape.data import DataError, DataLoader, MissingDependencyError

    args.epochs = args.epochs if args.epochs is not None else DEFAULT_EPOCHS[args.dataset]
    if args.epochs < 1 or args.batch_size < 1:
        print("dualtape train: --epochs and --batch-size must be >= 1", file=sys.stderr)
        return 2
    if args.dataset == "mnist" and not args.data_dir:
        print("dualtape train: --dataset mnist needs --data-dir DIR (add --download to fetch "
              "the four files there)", file=sys.stderr)
        return 2
    out = args.out or os.path.join("runs", args.dataset)
    try:
        ds = load_dataset(args)
    except (DataError, MissingDependencyError) as exc:
        print(f"dualtape train: {exc}", file=sys.stderr)
        return 2
    model, opt, config = build(args, ds.X_train.shape[1], ds.n_classes)
    config["title"] = f"{ds.name}: " + "-".join(map(str, config["sizes"]))
    loader = DataLoader(ds.X_train, ds.y_train, batch_size=args.batch_size, seed=args.seed)
    print(f"{ds!r}\n{model}\n{opt}, batch {args.batch_size}, {args.epochs} epoch(s) of "
          f"{len(loader)} batches; outputs in {out}", flush=True)
    trainer = nn.Trainer(model, opt, nn.CrossEntropyLoss(), out_dir=out,
                         val_every=args.val_every, progress=args.progress, plot=args.plot,
                         config=config, compile="auto" if args.compile else False)
    try:
        history = trainer.fit(loader, (ds.X_val, ds.y_val), epochs=args.epochs,
                              resume=args.resume)
    except ValueError as exc:  # a checkpoint that does not fit this configuration
        print(f"dualtape train: {exc}", file=sys.stderr)
        return 2
    if history.stopped:
        print(history.stopped, file=sys.stderr)
        return 1
    final, secs = history.final, history.epoch_seconds
    per_epoch = f", {sum(secs) / len(secs):.3g} s per epoch" if secs else ""
    print(f"validation accuracy {final.get('val_accuracy', float('nan')):.4f}, loss "
          f"{final.get('val_loss', float('nan')):.4f} after {trainer.epoch} epoch(s) "
          f"({trainer.step} batches{per_epoch}); metrics, plots and checkpoint in {out}")
    return 0
