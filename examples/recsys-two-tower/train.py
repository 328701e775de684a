#!/usr/bin/env python3
"""Train a NumPy two-tower retrieval model on a generated interaction data set.

This is the trial program of the `recsys-two-tower` example study (study.yaml
beside this file). It needs only Python 3 and NumPy, and runs standalone too:

    python3 train.py --user-dim=64 --product-dim=64 \
        --cross-features=cat_x_subcat_user_x_city --lr=0.02 --epochs=6

The data (generated with a fixed seed, identical in every trial):
  * users, each with a city and an age band; products, each with a category
    and a subcategory;
  * a hidden preference structure: a user's taste vector is the sum of a
    vector for its (age band, city) pair and a personal part; a product's
    attribute vector is the sum of a vector for its (category, subcategory)
    pair and a part of its own. Both pair vectors are drawn independently per
    pair, so they are *not* the sum of a city part and an age-band part (or a
    category part and a subcategory part): only a crossed feature can learn
    them. The affinity is the dot product of taste and attributes weighted by
    a slowly decaying spectrum over 64 latent dimensions (wider embeddings
    capture more of it, with diminishing returns), plus a product popularity
    term; 1500 users, 600 products, about 34,000 training interactions;
  * every user interacts with 15 to 35 products drawn from softmax(affinity);
    two interactions per user are held out for evaluation.

The model: a user tower (user id + city + age band embeddings, plus an
(age band x city) embedding with cross_features=cat_x_subcat_user_x_city)
and a product tower (product id + category + subcategory embeddings, plus a
(category x subcategory) embedding with cross_features=cat_x_subcat or
cat_x_subcat_user_x_city), projected into the user space by a learned matrix;
score = <user vector, product vector> + product bias. Trained with an in-batch
softmax (the other positives of a mini-batch are the negatives) and lazy Adam.

Where hyperparameters come from, first match wins: the command line, then the
JSON object in $HPOD_PARAMS_FILE (or $HPOD_PARAMS), then the defaults below.
Keys: user_embedding_dim, product_embedding_dim, cross_features, lr, epochs,
data_fraction, batch_size, seed, users.

Tier values (hpod's HPOD_TIER_<KEY> variables) fill in what argv leaves out, so a
study may add tier keys without changing the command: HPOD_TIER_USERS (e.g.
`users: 300` in a tier) generates a smaller data set, for fast tests.

Output (the hpod trial protocol): one metric line per epoch on stdout,
    hpod {"step": 1, "loss": ..., "recall_at_10": ..., "recall_at_50": ..., "recall_at_100": ...}
and at the end
    hpod {"final": true, "recall_at_10": ..., "recall_at_50": ..., "recall_at_100": ..., ...}
The model is written to model.npz in $HPOD_ARTIFACT_DIR (or the current
directory), with model.json describing it.

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

DATA_SEED = 4242            # fixed: every trial sees the same data and the same split
N_USERS = 1500              # default; HPOD_TIER_USERS / --users shrink it for tests
PRODUCTS_PER_USER = 0.4     # the catalogue has N_USERS * 0.4 products (600 by default), at least 150
N_CITIES = 12
N_AGE_BANDS = 4
N_CATEGORIES = 10
N_SUBCATEGORIES = 5
LATENT_DIM = 64
PERSONAL = 0.8              # scale of the personal part of tastes and attributes
SPECTRUM_DECAY = 0.3        # weight of latent dimension r is (r + 1) ** -0.3
HELD_OUT_PER_USER = 2
RECALL_KS = (10, 50, 100)
EXIT_DIVERGED = 3
L2 = 0.01                   # L2 penalty on the embedding rows a batch touches

CROSS_CHOICES = ("none", "cat_x_subcat", "cat_x_subcat_user_x_city")

DEFAULTS = {
    "user_embedding_dim": 64,
    "product_embedding_dim": 64,
    "cross_features": "cat_x_subcat_user_x_city",
    "lr": 0.02,
    "epochs": 6,
    "data_fraction": 1.0,
    "batch_size": 128,
    "seed": 0,
    "users": N_USERS,
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


def _cross(value):
    text = str(value).strip().lower()
    if text not in CROSS_CHOICES:
        raise ValueError(f"expected one of {', '.join(CROSS_CHOICES)}, got {value!r}")
    return text


CONVERTERS = {
    "user_embedding_dim": _int,
    "product_embedding_dim": _int,
    "cross_features": _cross,
    "lr": _float,
    "epochs": _int,
    "data_fraction": _float,
    "batch_size": _int,
    "seed": _int,
    "users": _int,
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
        description="Train a NumPy two-tower retrieval model (an hpod example trial).",
        epilog="Values missing from argv are read from $HPOD_PARAMS_FILE (JSON), then "
               "$HPOD_PARAMS, then hpod's tier variables ($HPOD_TIER_EPOCHS, ...), then the defaults.",
    )
    a = p.add_argument
    a("--user-dim", dest="user_embedding_dim", type=_argparse_type(_int), help="user tower width (default 64)")
    a("--product-dim", dest="product_embedding_dim", type=_argparse_type(_int),
      help="product embedding width (default 64)")
    a("--cross-features", dest="cross_features", type=_argparse_type(_cross),
      help="none | cat_x_subcat | cat_x_subcat_user_x_city (default the last)")
    a("--lr", type=_argparse_type(_float), help="Adam learning rate (default 0.02)")
    a("--epochs", type=_argparse_type(_int), help="passes over the training interactions (default 6)")
    a("--data-fraction", dest="data_fraction", type=_argparse_type(_float),
      help="fraction of the training interactions used, in (0, 1] (default 1.0)")
    a("--batch-size", dest="batch_size", type=_argparse_type(_int), help="mini-batch size (default 128)")
    a("--seed", type=_argparse_type(_int), help="seed for initialization and shuffling (default 0)")
    a("--users", type=_argparse_type(_int), help="users in the generated data set (default 1500; tests use 300)")
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
        data, source = {}, None
    if not isinstance(data, dict):
        parser.error(f"{source} must hold a JSON object, got {type(data).__name__}")
    params = {str(k).replace("-", "_"): v for k, v in data.items()}
    # Tier values (HPOD_TIER_EPOCHS=2, HPOD_TIER_USERS=300, ...) come last.
    for name in DEFAULTS:
        tier_value = os.environ.get("HPOD_TIER_" + name.upper())
        if name not in params and tier_value:
            params[name] = tier_value
    return params, source or "HPOD_TIER_* variables"


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
        (params["user_embedding_dim"] >= 1, "--user-dim must be >= 1"),
        (params["product_embedding_dim"] >= 1, "--product-dim must be >= 1"),
        (params["lr"] > 0 and np.isfinite(params["lr"]), "--lr must be > 0"),
        (params["epochs"] >= 1, "--epochs must be >= 1"),
        (0.0 < params["data_fraction"] <= 1.0, "--data-fraction must be in (0, 1]"),
        (params["batch_size"] >= 2, "--batch-size must be >= 2"),
        (params["users"] >= 50, "--users must be >= 50"),
    ]
    for ok, message in checks:
        if not ok:
            parser.error(message)
    return params, origin


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

class Data:
    """Users, products, their features and the train/test interactions."""


def make_data(n_users=N_USERS, seed=DATA_SEED):
    rng = np.random.default_rng(seed)
    n_products = max(150, int(n_users * PRODUCTS_PER_USER))
    d = Data()
    d.n_users, d.n_products = n_users, n_products
    d.user_city = rng.integers(0, N_CITIES, n_users)
    d.user_age = rng.integers(0, N_AGE_BANDS, n_users)
    d.user_group = d.user_age * N_CITIES + d.user_city            # (age band, city) cross
    d.product_cat = rng.integers(0, N_CATEGORIES, n_products)
    d.product_sub = rng.integers(0, N_SUBCATEGORIES, n_products)
    d.product_pair = d.product_cat * N_SUBCATEGORIES + d.product_sub   # (category, subcategory) cross

    # The hidden preference structure. Group and pair vectors are drawn per
    # pair: no additive city + age (or category + subcategory) model fits them.
    spectrum = (np.arange(LATENT_DIM) + 1.0) ** -SPECTRUM_DECAY
    group_taste = rng.normal(0.0, 1.0, (N_AGE_BANDS * N_CITIES, LATENT_DIM))
    city_taste = rng.normal(0.0, 0.5, (N_CITIES, LATENT_DIM))
    pair_attr = rng.normal(0.0, 1.0, (N_CATEGORIES * N_SUBCATEGORIES, LATENT_DIM))
    cat_attr = rng.normal(0.0, 0.5, (N_CATEGORIES, LATENT_DIM))
    taste = (group_taste[d.user_group] + city_taste[d.user_city]
             + rng.normal(0.0, PERSONAL, (n_users, LATENT_DIM)))
    attr = (pair_attr[d.product_pair] + cat_attr[d.product_cat]
            + rng.normal(0.0, PERSONAL, (n_products, LATENT_DIM)))
    popularity = rng.normal(0.0, 0.7, n_products)
    affinity = (taste * spectrum) @ attr.T * (2.2 / np.sqrt(spectrum.sum())) + popularity

    # Interactions: 6..16 distinct products per user, drawn from
    # softmax(affinity) without replacement (Gumbel top-k).
    counts = rng.integers(15, 36, n_users)
    gumbel = affinity + rng.gumbel(size=affinity.shape)
    ranked = np.argsort(-gumbel, axis=1)
    train_u, train_p, test_u, test_p = [], [], [], []
    for u in range(n_users):
        items = ranked[u, :counts[u]]
        held = rng.choice(counts[u], HELD_OUT_PER_USER, replace=False)
        mask = np.zeros(counts[u], dtype=bool)
        mask[held] = True
        test_u.append(np.full(HELD_OUT_PER_USER, u))
        test_p.append(items[mask])
        train_u.append(np.full(counts[u] - HELD_OUT_PER_USER, u))
        train_p.append(items[~mask])
    train_u, train_p = np.concatenate(train_u), np.concatenate(train_p)
    order = rng.permutation(len(train_u))          # a fixed shuffle: data_fraction takes a prefix
    d.train_u, d.train_p = train_u[order], train_p[order]
    d.test_u, d.test_p = np.concatenate(test_u), np.concatenate(test_p)
    return d


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

class TwoTower:
    """Embedding tables, summed per tower; products projected into user space."""

    def __init__(self, data, user_dim, product_dim, cross, rng):
        self.user_dim, self.product_dim, self.cross = user_dim, product_dim, cross
        self.user_x_city = cross == "cat_x_subcat_user_x_city"
        self.cat_x_subcat = cross in ("cat_x_subcat", "cat_x_subcat_user_x_city")
        su, sp = 0.1 / np.sqrt(user_dim), 0.1 / np.sqrt(product_dim)
        self.tables = {
            "user": rng.normal(0, su, (data.n_users, user_dim)),
            "city": rng.normal(0, su, (N_CITIES, user_dim)),
            "age": rng.normal(0, su, (N_AGE_BANDS, user_dim)),
            "product": rng.normal(0, sp, (data.n_products, product_dim)),
            "category": rng.normal(0, sp, (N_CATEGORIES, product_dim)),
            "subcategory": rng.normal(0, sp, (N_SUBCATEGORIES, product_dim)),
        }
        if self.user_x_city:
            self.tables["age_x_city"] = rng.normal(0, su, (N_AGE_BANDS * N_CITIES, user_dim))
        if self.cat_x_subcat:
            self.tables["cat_x_subcat"] = rng.normal(0, sp, (N_CATEGORIES * N_SUBCATEGORIES, product_dim))
        # Projection of the product tower into the user space, and a bias per product.
        self.tables["projection"] = np.eye(product_dim, user_dim) + rng.normal(
            0, 0.01, (product_dim, user_dim))
        self.tables["product_bias"] = np.zeros((data.n_products, 1))

    def user_tables(self):
        return ["user", "city", "age"] + (["age_x_city"] if self.user_x_city else [])

    def product_tables(self):
        return ["product", "category", "subcategory"] + (["cat_x_subcat"] if self.cat_x_subcat else [])

    def user_keys(self, data, users):
        keys = [("user", users), ("city", data.user_city[users]), ("age", data.user_age[users])]
        if self.user_x_city:
            keys.append(("age_x_city", data.user_group[users]))
        return keys

    def product_keys(self, data, products):
        keys = [("product", products), ("category", data.product_cat[products]),
                ("subcategory", data.product_sub[products])]
        if self.cat_x_subcat:
            keys.append(("cat_x_subcat", data.product_pair[products]))
        return keys

    def tower(self, keys):
        return sum(self.tables[name][idx] for name, idx in keys)

    def user_vectors(self, data, users):
        return self.tower(self.user_keys(data, users))

    def product_vectors(self, data, products):
        """Products in the user space (n x user_dim) and their biases (n)."""
        raw = self.tower(self.product_keys(data, products))
        return raw @ self.tables["projection"], self.tables["product_bias"][products, 0]

    def lr_scale(self):
        """Adam moves every coordinate by about lr per step, so a wider table
        would move its dot products faster; dividing its learning rate by
        sqrt(width / 16) makes one lr mean the same step in score space at
        every width (the widths can then be compared at one lr)."""
        scale = {}
        for name, table in self.tables.items():
            width = self.product_dim if name == "projection" else table.shape[1]
            scale[name] = 1.0 / np.sqrt(max(width, 1) / 16.0)
        return scale

    def n_parameters(self):
        return int(sum(t.size for t in self.tables.values()))


class LazyAdam:
    """Adam that updates only the rows of a table that a batch touched."""

    def __init__(self, tables, lr, scale, l2=0.0, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.l2, self.beta1, self.beta2, self.eps, self.t = lr, l2, beta1, beta2, eps, 0
        self.scale = scale  # per-table learning-rate multiplier
        self.m = {k: np.zeros_like(v) for k, v in tables.items()}
        self.v = {k: np.zeros_like(v) for k, v in tables.items()}

    def step(self, tables, sparse_grads, dense_grads):
        self.t += 1
        c1, c2 = 1.0 - self.beta1 ** self.t, 1.0 - self.beta2 ** self.t
        for name, (rows, g) in sparse_grads.items():
            m, v = self.m[name], self.v[name]
            if self.l2:
                g = g + self.l2 * tables[name][rows]
            m[rows] = self.beta1 * m[rows] + (1.0 - self.beta1) * g
            v[rows] = self.beta2 * v[rows] + (1.0 - self.beta2) * g * g
            tables[name][rows] -= self.lr * self.scale[name] * (m[rows] / c1) / (np.sqrt(v[rows] / c2) + self.eps)
        for name, g in dense_grads.items():
            m, v = self.m[name], self.v[name]
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            tables[name] -= self.lr * self.scale[name] * (m / c1) / (np.sqrt(v / c2) + self.eps)


def scatter(keys, grad, out):
    """Sum grad rows per (table, index) into out: {table: (unique rows, summed grads)}."""
    for name, idx in keys:
        rows, inverse = np.unique(idx, return_inverse=True)
        summed = np.zeros((len(rows), grad.shape[1]))
        np.add.at(summed, inverse, grad)
        out[name] = (rows, summed)


def train_step(model, optimizer, data, users, products, log_q):
    """One in-batch softmax step; returns the batch loss.

    log_q: log of each product's share of the training interactions. In an
    in-batch softmax a popular product is a negative more often than a rare
    one; subtracting log_q from the logits (the "logQ correction" of sampled
    softmax) undoes that bias."""
    t = model.tables
    ukeys, pkeys = model.user_keys(data, users), model.product_keys(data, products)
    U = model.tower(ukeys)                           # B x du
    P_raw = model.tower(pkeys)                       # B x dp
    W = t["projection"]
    P = P_raw @ W                                    # B x du
    logits = U @ P.T + (t["product_bias"][products, 0] - log_q[products])[None, :]
    # The same product twice in a batch is not a negative for itself.
    same = products[None, :] == products[:, None]
    np.fill_diagonal(same, False)
    logits[same] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    n = len(users)
    loss = -np.log(np.clip(probs[np.arange(n), np.arange(n)], 1e-30, None)).mean()
    G = probs
    G[np.arange(n), np.arange(n)] -= 1.0
    G /= n
    dU = G @ P
    dP = G.T @ U
    dW = P_raw.T @ dP
    dP_raw = dP @ W.T
    sparse = {}
    scatter(ukeys, dU, sparse)
    scatter(pkeys, dP_raw, sparse)
    bias_rows, inverse = np.unique(products, return_inverse=True)
    bias_grad = np.zeros((len(bias_rows), 1))
    np.add.at(bias_grad[:, 0], inverse, G.sum(axis=0))
    sparse["product_bias"] = (bias_rows, bias_grad)
    optimizer.step(t, sparse, {"projection": dW})
    return float(loss)


def evaluate(model, data):
    """recall@K over every user's held-out interactions; the user's known
    (training) products are excluded from the ranking."""
    users = np.arange(data.n_users)
    U = model.user_vectors(data, users)
    P, bias = model.product_vectors(data, np.arange(data.n_products))
    scores = U @ P.T + bias[None, :]
    scores[data.train_u, data.train_p] = -np.inf     # every known interaction, whatever the fraction
    kmax = max(RECALL_KS)
    top = np.argpartition(-scores, kmax - 1, axis=1)[:, :kmax]
    top_scores = np.take_along_axis(scores, top, axis=1)
    top = np.take_along_axis(top, np.argsort(-top_scores, axis=1), axis=1)
    # rank of each held-out product among the user's top kmax (kmax when absent)
    hits = top[data.test_u] == data.test_p[:, None]
    rank = np.where(hits.any(axis=1), hits.argmax(axis=1), kmax)
    return {f"recall_at_{k}": float((rank < k).mean()) for k in RECALL_KS}


def emit(payload):
    print("hpod " + json.dumps(payload), flush=True)


def write_model(model, params, metrics):
    out_dir = os.environ.get("HPOD_ARTIFACT_DIR") or "."
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.npz")
    tmp = os.path.join(out_dir, f"model.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, **{name: table.astype(np.float32) for name, table in model.tables.items()})
    os.replace(tmp, path)  # never leave a half-written model behind
    card = {
        "format": "hpod-recsys-two-tower/1",
        "weights": "model.npz",
        "score": "(sum of user tables) . ((sum of product tables) @ projection) + product_bias",
        "user_tables": model.user_tables(),
        "product_tables": model.product_tables(),
        "hyperparameters": params,
        "metrics": metrics,
        "parameters": model.n_parameters(),
    }
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
    return path


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main(argv=None):
    params, origin = resolve_params(argv)
    t0 = time.perf_counter()
    data = make_data(params["users"])
    n_used = max(params["batch_size"], int(round(len(data.train_u) * params["data_fraction"])))
    train_u, train_p = data.train_u[:n_used], data.train_p[:n_used]

    rng = np.random.default_rng(params["seed"])
    model = TwoTower(data, params["user_embedding_dim"], params["product_embedding_dim"],
                     params["cross_features"], rng)
    optimizer = LazyAdam(model.tables, params["lr"], model.lr_scale(), L2)
    counts = np.bincount(train_p, minlength=data.n_products) + 1.0
    log_q = np.log(counts / counts.sum())
    from_env = sorted(k for k, o in origin.items() if o == "env")
    print(f"recsys-two-tower: users={data.n_users} products={data.n_products} "
          f"train={len(train_u)}/{len(data.train_u)} test={len(data.test_u)} "
          f"parameters={model.n_parameters()} params={json.dumps(params)}"
          + (f" (from HPOD params/tier: {', '.join(from_env)})" if from_env else ""), flush=True)

    batch = params["batch_size"]
    metrics = {}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, params["epochs"] + 1):
            order = rng.permutation(len(train_u))
            total, count = 0.0, 0
            for start in range(0, len(order) - batch + 1, batch):   # full batches only
                idx = order[start:start + batch]
                loss = train_step(model, optimizer, data, train_u[idx], train_p[idx], log_q)
                if not np.isfinite(loss):
                    print(f"warning: loss diverged at epoch {epoch}; giving up "
                          f"(lr={params['lr']} is probably too large)", flush=True)
                    return EXIT_DIVERGED
                total += loss
                count += 1
            metrics = evaluate(model, data)
            emit({"step": epoch, "loss": round(total / max(count, 1), 6),
                  **{k: round(v, 6) for k, v in metrics.items()}})

    train_seconds = time.perf_counter() - t0
    final = {**metrics, "train_seconds": round(train_seconds, 3), "parameters": model.n_parameters()}
    path = write_model(model, params, final)
    print(f"done: " + " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
          + f" train_time={train_seconds:.2f}s model={path}", flush=True)
    emit({"final": True, **{k: round(v, 6) for k, v in metrics.items()},
          "train_seconds": round(train_seconds, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
