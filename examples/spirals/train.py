#!/usr/bin/env python3
"""Train a small NumPy MLP on a generated 3-class 2-D spirals data set.

This is the trial program of the `spirals-mlp` example study (study.yaml beside
this file). It needs only Python 3 and NumPy, and runs standalone too:

    python3 train.py --lr=0.01 --hidden=64 --optimizer=adam --epochs=30

Where hyperparameters come from, first match wins:
  1. the command line (argparse, see --help);
  2. the JSON object in the file named by env HPOD_PARAMS_FILE, which hpod
     writes for every trial with the trial's *active* parameters (for example
     `momentum` is present only when `optimizer` is `sgd`, because study.yaml
     declares it with `when: {optimizer: sgd}`; that is why the study's argv
     does not pass --momentum). Keys use the parameter names (`lr`, `hidden`,
     `dropout`, `optimizer`, `momentum`, `epochs`, `data_fraction`,
     `batch_size`, `seed`, `layers`); unknown keys are ignored;
  3. the JSON object in env HPOD_PARAMS, when HPOD_PARAMS_FILE is not set;
  4. the defaults below.

Output (the hpod trial protocol): one metric line per epoch on stdout,
    hpod {"step": 1, "loss": ..., "val_loss": ..., "val_accuracy": ...}
and at the end
    hpod {"final": true, "val_accuracy": ..., "latency_ms": ..., "weights": ...}
(`weights`: the model's parameter count, a deterministic measure of its size).
Other lines are plain log lines. The model is written to model.json in
$HPOD_ARTIFACT_DIR (created if missing), or in the current directory.

Exit status: 0 success, 2 bad arguments, 3 the loss diverged (nan/inf).
"""

import os

# Small matrices: BLAS threads only add overhead, and hpod runs trials in
# parallel. Must be set before NumPy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

DATA_SEED = 20240  # fixed: every trial sees the same data and the same split
POINTS_PER_CLASS = 2000
N_CLASSES = 3
VAL_FRACTION = 0.2
SPIRAL_TURNS = 0.7
SPIRAL_NOISE = 0.05
EXIT_DIVERGED = 3

DEFAULTS = {
    "lr": 0.01,
    "hidden": 64,
    "dropout": 0.0,
    "optimizer": "adam",
    "momentum": 0.9,
    "epochs": 30,
    "data_fraction": 1.0,
    "batch_size": 64,
    "seed": 0,
    "layers": 2,
}


# --------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------

def _int(value):
    """An int from argv text or JSON (accepts 64, "64", 64.0; rejects 64.5)."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected an integer, got {value}")
        return int(value)
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise ValueError(f"expected an integer, got {text}") from None
        return int(number)


def _float(value):
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return float(value)


def _optimizer(value):
    text = str(value).strip().lower()
    if text not in ("sgd", "adam"):
        raise ValueError(f"expected sgd or adam, got {value!r}")
    return text


CONVERTERS = {
    "lr": _float,
    "hidden": _int,
    "dropout": _float,
    "optimizer": _optimizer,
    "momentum": _float,
    "epochs": _int,
    "data_fraction": _float,
    "batch_size": _int,
    "seed": _int,
    "layers": _int,
}


def _argparse_type(converter):
    def convert(text):
        try:
            return converter(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    convert.__name__ = converter.__name__.lstrip("_")
    return convert


def build_parser():
    p = argparse.ArgumentParser(
        description="Train a NumPy MLP on 3-class spirals (an hpod example trial).",
        epilog="Values missing from argv are read from $HPOD_PARAMS_FILE (JSON), "
               "then $HPOD_PARAMS, then the defaults.",
    )
    # default=None everywhere: "not given on argv" must be distinguishable.
    p.add_argument("--lr", type=_argparse_type(_float), help="learning rate (default 0.01)")
    p.add_argument("--hidden", type=_argparse_type(_int), help="units per hidden layer (default 64)")
    p.add_argument("--dropout", type=_argparse_type(_float), help="dropout rate on hidden layers (default 0)")
    p.add_argument("--optimizer", type=_argparse_type(_optimizer), help="sgd or adam (default adam)")
    p.add_argument("--momentum", type=_argparse_type(_float), help="SGD momentum (default 0.9; ignored by adam)")
    p.add_argument("--epochs", type=_argparse_type(_int), help="training epochs (default 30)")
    p.add_argument("--data-fraction", dest="data_fraction", type=_argparse_type(_float),
                   help="fraction of the training set used, in (0, 1] (default 1.0)")
    p.add_argument("--batch-size", dest="batch_size", type=_argparse_type(_int), help="mini-batch size (default 64)")
    p.add_argument("--seed", type=_argparse_type(_int), help="seed for weights, shuffling and dropout (default 0)")
    p.add_argument("--layers", type=_argparse_type(_int), choices=(1, 2), help="hidden layers, 1 or 2 (default 2)")
    return p


def load_env_params(parser):
    """The JSON object hpod hands the trial, or {} when there is none."""
    path = os.environ.get("HPOD_PARAMS_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as error:
            parser.error(f"cannot read HPOD_PARAMS_FILE {path}: {error}")
        source = f"HPOD_PARAMS_FILE ({path})"
    elif os.environ.get("HPOD_PARAMS"):
        try:
            data = json.loads(os.environ["HPOD_PARAMS"])
        except ValueError as error:
            parser.error(f"HPOD_PARAMS is not valid JSON: {error}")
        source = "HPOD_PARAMS"
    else:
        return {}, None
    if not isinstance(data, dict):
        parser.error(f"{source} must hold a JSON object, got {type(data).__name__}")
    # Accept both data_fraction and data-fraction spellings.
    return {str(k).replace("-", "_"): v for k, v in data.items()}, source


def resolve_params(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    env_params, source = load_env_params(parser)
    params, origin = {}, {}
    for name, default in DEFAULTS.items():
        value = getattr(args, name)
        if value is not None:
            params[name], origin[name] = value, "argv"
        elif name in env_params and env_params[name] is not None:
            try:
                params[name] = CONVERTERS[name](env_params[name])
            except (TypeError, ValueError) as error:
                parser.error(f"{source}: parameter {name!r}: {error}")
            origin[name] = "env"
        else:
            params[name], origin[name] = default, "default"

    checks = [
        (params["lr"] > 0 and np.isfinite(params["lr"]), "--lr must be > 0"),
        (params["hidden"] >= 1, "--hidden must be >= 1"),
        (0.0 <= params["dropout"] < 1.0, "--dropout must be in [0, 1)"),
        (0.0 <= params["momentum"] < 1.0, "--momentum must be in [0, 1)"),
        (params["epochs"] >= 1, "--epochs must be >= 1"),
        (0.0 < params["data_fraction"] <= 1.0, "--data-fraction must be in (0, 1]"),
        (params["batch_size"] >= 1, "--batch-size must be >= 1"),
        (params["layers"] in (1, 2), "--layers must be 1 or 2"),
    ]
    for ok, message in checks:
        if not ok:
            parser.error(message)
    return params, origin


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def make_spirals(points_per_class=POINTS_PER_CLASS, classes=N_CLASSES, seed=DATA_SEED):
    """Interleaved spiral arms (0.7 turn each) with Gaussian noise; returns X, y.

    The noise makes the arms overlap a little near the centre, so even a good
    model tops out near 0.99 validation accuracy; and three quick epochs on 30%
    of the data separate good learning rates and optimizers from poor ones:
    the search has something to find.
    """
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(classes):
        r = np.linspace(0.05, 1.0, points_per_class)
        theta = r * SPIRAL_TURNS * 2.0 * np.pi + 2.0 * np.pi * k / classes
        arm = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
        xs.append(arm + rng.normal(0.0, SPIRAL_NOISE, arm.shape))
        ys.append(np.full(points_per_class, k, dtype=np.int64))
    X, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(len(y))
    return X[order], y[order]


def load_data(data_fraction):
    X, y = make_spirals()
    n_val = int(round(len(y) * VAL_FRACTION))
    X_val, y_val = X[:n_val], y[:n_val]
    X_train, y_train = X[n_val:], y[n_val:]
    # The training subset is fixed too (a prefix of a fixed shuffle), so that
    # trials at the same data fraction are comparable.
    n_used = max(N_CLASSES, int(round(len(y_train) * data_fraction)))
    X_train, y_train = X_train[:n_used], y_train[:n_used]
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-8
    return (X_train - mean) / std, y_train, (X_val - mean) / std, y_val, mean, std


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

class MLP:
    def __init__(self, sizes, rng):
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            W = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))  # He init
            self.params += [W, np.zeros(fan_out)]

    @property
    def n_layers(self):
        return len(self.params) // 2

    def forward(self, X, dropout=0.0, rng=None):
        """Logits, and the cache needed by backward. Inverted dropout when training."""
        h, cache = X, []
        for i in range(self.n_layers):
            W, b = self.params[2 * i], self.params[2 * i + 1]
            z = h @ W + b
            if i == self.n_layers - 1:
                cache.append((h, None))
                return z, cache
            a = np.maximum(z, 0.0)
            mask = None
            if dropout > 0.0 and rng is not None:
                mask = (rng.random(a.shape) >= dropout) / (1.0 - dropout)
                a = a * mask
            cache.append((h, (z, mask)))
            h = a

    def backward(self, dlogits, cache):
        grads = [None] * len(self.params)
        g = dlogits
        for i in reversed(range(self.n_layers)):
            h_in, act = cache[i]
            W = self.params[2 * i]
            grads[2 * i] = h_in.T @ g
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:
                g = g @ W.T
                z_prev, mask_prev = cache[i - 1][1]
                if mask_prev is not None:
                    g = g * mask_prev
                g = g * (z_prev > 0.0)
        return grads

    def predict_proba(self, X):
        logits, _ = self.forward(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits, y):
    """Mean loss and d(loss)/d(logits), numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(y)
    loss = -log_probs[np.arange(n), y].mean()
    d = np.exp(log_probs)
    d[np.arange(n), y] -= 1.0
    return loss, d / n


class SGD:
    def __init__(self, params, lr, momentum):
        self.lr, self.momentum = lr, momentum
        self.velocity = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        for p, g, v in zip(params, grads, self.velocity):
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam:
    def __init__(self, params, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps, self.t = lr, beta1, beta2, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        self.t += 1
        c1, c2 = 1.0 - self.beta1 ** self.t, 1.0 - self.beta2 ** self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def evaluate(model, X, y):
    logits, _ = model.forward(X)
    loss, _ = softmax_cross_entropy(logits, y)
    accuracy = float((logits.argmax(axis=1) == y).mean())
    return float(loss), accuracy


def measure_latency_ms(model, X, n=200):
    """Mean wall time of one single-example prediction, over n predictions."""
    rows = [X[i % len(X)][None, :] for i in range(n)]
    model.predict_proba(rows[0])  # warm-up
    start = time.perf_counter()
    for row in rows:
        model.predict_proba(row).argmax()
    return (time.perf_counter() - start) * 1000.0 / n


def emit(payload):
    print("hpod " + json.dumps(payload), flush=True)


def optimizer_state(optimizer):
    if isinstance(optimizer, Adam):
        return {"t": optimizer.t}, optimizer.m + optimizer.v
    return {}, optimizer.velocity


def save_checkpoint(model, optimizer, rng, epoch):
    """Saves what the next epoch needs in $HPOD_CHECKPOINT_DIR and tells hpod its name.

    hpod gives every re-run of this configuration (a retry after a crash, a study stopped
    and run again, hpod killed) the same folder and $HPOD_CHECKPOINT, the last one reported.
    """
    folder = os.environ.get("HPOD_CHECKPOINT_DIR")
    if not folder:
        return
    name = f"epoch-{epoch}.npz"
    meta, buffers = optimizer_state(optimizer)
    meta.update(epoch=epoch, rng=rng.bit_generator.state)
    arrays = {f"p{i}": p for i, p in enumerate(model.params)}
    arrays.update({f"o{i}": b for i, b in enumerate(buffers)})
    tmp = os.path.join(folder, name + ".tmp.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, os.path.join(folder, name))  # a checkpoint is whole or absent
    emit({"checkpoint": name, "step": epoch})


def load_checkpoint(model, optimizer, rng):
    """The epoch the checkpoint hpod names in $HPOD_CHECKPOINT ends, its state restored; 0 without one."""
    path = os.environ.get("HPOD_CHECKPOINT")
    if not path or not os.path.exists(path):
        return 0
    with np.load(path) as saved:
        meta = json.loads(str(saved["meta"]))
        for i, p in enumerate(model.params):
            p[...] = saved[f"p{i}"]
        _, buffers = optimizer_state(optimizer)
        for i, b in enumerate(buffers):
            b[...] = saved[f"o{i}"]
    if isinstance(optimizer, Adam):
        optimizer.t = meta["t"]
    rng.bit_generator.state = meta["rng"]
    print(f"resumed from {os.path.basename(path)} (epoch {meta['epoch']})", flush=True)
    return meta["epoch"]


def write_model(model, params, metrics, mean, std):
    out_dir = os.environ.get("HPOD_ARTIFACT_DIR") or "."
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.json")
    doc = {
        "format": "hpod-spirals-mlp/1",
        "architecture": {
            "inputs": 2,
            "hidden_layers": params["layers"],
            "hidden": params["hidden"],
            "classes": N_CLASSES,
            "activation": "relu",
            "output": "softmax",
        },
        "input_normalization": {"mean": mean.tolist(), "std": std.tolist()},
        "hyperparameters": params,
        "metrics": metrics,
        "weights": [
            {"W": model.params[2 * i].tolist(), "b": model.params[2 * i + 1].tolist()}
            for i in range(model.n_layers)
        ],
    }
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    os.replace(tmp, path)  # never leave a half-written model behind
    return path


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main(argv=None):
    params, origin = resolve_params(argv)
    t0 = time.perf_counter()
    X_train, y_train, X_val, y_val, mean, std = load_data(params["data_fraction"])

    rng = np.random.default_rng(params["seed"])
    sizes = [2] + [params["hidden"]] * params["layers"] + [N_CLASSES]
    model = MLP(sizes, rng)
    if params["optimizer"] == "adam":
        optimizer = Adam(model.params, params["lr"])
    else:
        optimizer = SGD(model.params, params["lr"], params["momentum"])

    shown = {k: v for k, v in params.items() if not (k == "momentum" and params["optimizer"] != "sgd")}
    from_env = sorted(k for k, o in origin.items() if o == "env")
    print(f"spirals-mlp: train={len(y_train)} val={len(y_val)} params={json.dumps(shown)}"
          + (f" (from HPOD params: {', '.join(from_env)})" if from_env else ""), flush=True)

    batch = params["batch_size"]
    val_loss = val_accuracy = float("nan")
    done = load_checkpoint(model, optimizer, rng)
    if done:  # a re-run that resumes after its last epoch still reports its result
        val_loss, val_accuracy = evaluate(model, X_val, y_val)
    # Overflow in a diverging run is expected; it is caught by the finiteness check.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(done + 1, params["epochs"] + 1):
            order = rng.permutation(len(y_train))
            total, count = 0.0, 0
            for start in range(0, len(order), batch):
                idx = order[start:start + batch]
                logits, cache = model.forward(X_train[idx], params["dropout"], rng)
                loss, dlogits = softmax_cross_entropy(logits, y_train[idx])
                if not np.isfinite(loss):
                    break
                optimizer.step(model.params, model.backward(dlogits, cache))
                total += float(loss) * len(idx)
                count += len(idx)
            train_loss = total / count if count == len(order) else float("nan")
            val_loss, val_accuracy = evaluate(model, X_val, y_val)
            if not (np.isfinite(train_loss) and np.isfinite(val_loss)):
                print(f"warning: loss diverged at epoch {epoch} (train={train_loss}, val={val_loss}); "
                      f"giving up (lr={params['lr']} is probably too large)", flush=True)
                return EXIT_DIVERGED
            emit({"step": epoch, "loss": round(train_loss, 6), "val_loss": round(val_loss, 6),
                  "val_accuracy": round(val_accuracy, 6)})
            save_checkpoint(model, optimizer, rng, epoch)

    train_seconds = time.perf_counter() - t0
    latency_ms = measure_latency_ms(model, X_val)
    weights = int(sum(p.size for p in model.params))
    metrics = {"val_accuracy": val_accuracy, "val_loss": val_loss, "latency_ms": latency_ms,
               "weights": weights, "epochs": params["epochs"], "train_seconds": train_seconds}
    path = write_model(model, params, metrics, mean, std)
    print(f"done: val_accuracy={val_accuracy:.4f} val_loss={val_loss:.4f} "
          f"latency={latency_ms:.4f} ms train_time={train_seconds:.2f}s model={path}", flush=True)
    log_to_own_mlflow_run(metrics)
    emit({"final": True, "val_accuracy": round(val_accuracy, 6), "latency_ms": round(latency_ms, 6),
          "weights": weights})
    return 0


def log_to_own_mlflow_run(metrics):
    """Adds what only the trainer knows to the trial's MLflow run.

    When the study is mirrored to MLflow, hpod creates the trial's run before starting
    it and passes MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_ID and MLFLOW_RUN_ID, so
    `mlflow.start_run()` joins that run instead of making a new one. hpod already
    mirrors everything printed as `hpod {...}` and every file in $HPOD_ARTIFACT_DIR;
    this is for extras, and only in full trainings: importing mlflow takes seconds,
    which would dominate a quick test. Skipped when the run id is absent or mlflow is
    not installed.
    """
    if not os.environ.get("MLFLOW_RUN_ID") or os.environ.get("HPOD_TIER") != "full_training":
        return
    try:
        import mlflow
    except ImportError:
        print("note: MLFLOW_RUN_ID is set but mlflow is not installed; skipping the trainer's own logging")
        return
    with mlflow.start_run():
        mlflow.set_tag("trainer", "spirals numpy mlp")
        mlflow.log_metric("train_seconds", metrics["train_seconds"])
        mlflow.log_dict({k: float(v) for k, v in metrics.items()}, "training_summary.json")


if __name__ == "__main__":
    sys.exit(main())
