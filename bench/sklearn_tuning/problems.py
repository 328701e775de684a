"""The real model-tuning problems of bench/sklearn_tuning, for hpod and its peers alike.

Each problem is a scikit-learn estimator on a dataset that scikit-learn ships (no downloads),
a search space as a practitioner would write it (log-scaled learning rates and regularization,
integer depths and sizes, categoricals, conditionals), and a k-fold cross-validated loss
(smaller is better). Evaluations are deterministic (fixed folds, fixed estimator seeds) and
cached on disk in bench/.work/sklearn-cache.sqlite, keyed by problem (with its version) and
configuration, so a configuration is never trained twice across runs and optimizers.

Spaces are lists of parameters:
  {"name", "kind": "float"|"int"|"cat", "low", "high", "log", "logit", "choices", "when"}
`log` asks for a log scale. `logit` marks a parameter in (0, 1) whose interesting values
crowd towards 0 or 1 (momentum, Adam's betas): hpod gets it as `logit: true` (its spec's
logit scale); the peers have no logit scale and get a plain uniform float over [low, high]
(what a practitioner writes in Optuna).
Categorical choices are strings. `when` = {"parent": [values]} makes a parameter conditional
(active only when the parent, defined earlier, has one of the values); inactive parameters are
absent from a configuration.

  python3 problems.py serve <problem>   first line: {"parameters": [...]}; then one JSON
                                        configuration per line in, its loss per line out
  python3 problems.py list [--quick]    the problem names
  python3 problems.py time <problem> N  times N random configurations (fresh, not cached)
"""

import json
import math
import os
import sqlite3
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

_here = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("HPOD_SKLEARN_CACHE", os.path.join(_here, "..", ".work", "sklearn-cache.sqlite"))


def F(name, low, high, log=False, logit=False, when=None):
    return {"name": name, "kind": "float", "low": low, "high": high, "log": log, "logit": logit, "when": when}


def I(name, low, high, log=False, when=None):
    return {"name": name, "kind": "int", "low": low, "high": high, "log": log, "logit": False, "when": when}


def C(name, choices, when=None):
    return {"name": name, "kind": "cat", "choices": list(choices), "log": False, "logit": False, "when": when}


# ---- datasets (cached per process) -------------------------------------------------------

_datasets = {}


def dataset(name):
    if name not in _datasets:
        from sklearn import datasets

        if name == "iris":
            X, y = datasets.load_iris(return_X_y=True)
        elif name == "wine":
            X, y = datasets.load_wine(return_X_y=True)
        elif name == "breast_cancer":
            X, y = datasets.load_breast_cancer(return_X_y=True)
        elif name == "digits600":
            # The first 600 of 1,797 images: enough for the SVM to matter, cheap to fit.
            X, y = datasets.load_digits(return_X_y=True)
            X, y = X[:600], y[:600]
        elif name == "diabetes":
            X, y = datasets.load_diabetes(return_X_y=True)
        else:
            raise KeyError(name)
        _datasets[name] = (X.astype(np.float64), y)
    return _datasets[name]


# ---- estimators ----------------------------------------------------------------------------


def _scaled(model):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), model)


def dt(c):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(
        max_depth=c["max_depth"], min_samples_split=c["min_samples_split"], min_samples_leaf=c["min_samples_leaf"],
        max_features=c["max_features"], criterion=c["criterion"], ccp_alpha=c["ccp_alpha"], random_state=0)


def rf(c):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=c["n_estimators"], max_depth=c["max_depth"], min_samples_leaf=c["min_samples_leaf"],
        max_features=c["max_features"], bootstrap=c["bootstrap"] == "true", criterion=c["criterion"],
        random_state=0, n_jobs=1)


def hgb(c):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        learning_rate=c["learning_rate"], max_iter=c["max_iter"], max_leaf_nodes=c["max_leaf_nodes"],
        min_samples_leaf=c["min_samples_leaf"], l2_regularization=c["l2_regularization"],
        max_features=c["max_features"], early_stopping=False, random_state=0)


def svc(c):
    from sklearn.svm import SVC

    return _scaled(SVC(
        C=c["C"], kernel=c["kernel"], gamma=c["gamma"], degree=c.get("degree", 3), coef0=c.get("coef0", 0.0),
        max_iter=20000))


def knn(c):
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    model = KNeighborsClassifier(n_neighbors=c["n_neighbors"], weights=c["weights"], p=c["p"], algorithm="brute")
    scaler = {"standard": StandardScaler(), "minmax": MinMaxScaler(), "none": None}[c["scaler"]]
    return make_pipeline(scaler, model) if scaler is not None else model


def logreg(c):
    from sklearn.linear_model import LogisticRegression

    fit_intercept = c["fit_intercept"] == "true"
    return _scaled(LogisticRegression(
        C=c["C"], penalty=c["penalty"], solver="liblinear", fit_intercept=fit_intercept,
        intercept_scaling=c.get("intercept_scaling", 1.0),
        class_weight=None if c["class_weight"] == "none" else "balanced", max_iter=500))


def enet(c):
    from sklearn.linear_model import ElasticNet
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    return make_pipeline(
        PolynomialFeatures(degree=c["degree"], include_bias=False), StandardScaler(),
        ElasticNet(alpha=c["alpha"], l1_ratio=c["l1_ratio"], max_iter=500, tol=1e-3, selection=c["selection"],
                   random_state=0))


def mlp_adam(c):
    from sklearn.neural_network import MLPClassifier

    return _scaled(MLPClassifier(
        hidden_layer_sizes=(c["width"],) * c["layers"], activation=c["activation"], solver="adam", alpha=c["alpha"],
        learning_rate_init=c["learning_rate_init"], batch_size=c["batch_size"], beta_1=c["beta_1"],
        beta_2=c["beta_2"], epsilon=c["epsilon"], max_iter=25, random_state=0))


def mlp_sgd(c):
    from sklearn.neural_network import MLPClassifier

    return _scaled(MLPClassifier(
        hidden_layer_sizes=(c["width"],) * c["layers"], activation="relu", solver="sgd", alpha=c["alpha"],
        learning_rate_init=c["learning_rate_init"], momentum=c["momentum"],
        nesterovs_momentum=c["nesterovs_momentum"] == "true", learning_rate=c["learning_rate"],
        power_t=c.get("power_t", 0.5), batch_size=c["batch_size"], max_iter=20, random_state=0))


# ---- the problems ---------------------------------------------------------------------------
# name -> version (bump when the definition changes: it keys the cache), dataset, estimator,
# loss ("error", "logloss", "relmse"), folds, space.

PROBLEMS = {
    "dt-breast": dict(
        version=1, data="breast_cancer", build=dt, loss="error", folds=5,
        space=[
            I("max_depth", 1, 20), I("min_samples_split", 2, 64, log=True), I("min_samples_leaf", 1, 32, log=True),
            F("max_features", 0.05, 1.0), C("criterion", ["gini", "entropy", "log_loss"]),
            F("ccp_alpha", 1e-6, 0.1, log=True)]),
    "rf-wine": dict(
        version=1, data="wine", build=rf, loss="logloss", folds=3,
        space=[
            I("n_estimators", 5, 50, log=True), I("max_depth", 2, 24), I("min_samples_leaf", 1, 16, log=True),
            F("max_features", 0.05, 1.0), C("bootstrap", ["true", "false"]), C("criterion", ["gini", "entropy"])]),
    "hgb-diabetes": dict(
        version=1, data="diabetes", build=hgb, loss="relmse", folds=3,
        space=[
            F("learning_rate", 1e-3, 0.5, log=True), I("max_iter", 10, 200, log=True),
            I("max_leaf_nodes", 4, 64, log=True), I("min_samples_leaf", 2, 100, log=True),
            F("l2_regularization", 1e-6, 10.0, log=True), F("max_features", 0.2, 1.0)]),
    "svc-digits": dict(
        version=1, data="digits600", build=svc, loss="error", folds=3,
        space=[
            F("C", 1e-2, 1e4, log=True), C("kernel", ["rbf", "poly", "sigmoid"]), F("gamma", 1e-5, 1.0, log=True),
            I("degree", 2, 5, when={"kernel": ["poly"]}), F("coef0", -1.0, 1.0, when={"kernel": ["poly", "sigmoid"]})]),
    "knn-iris": dict(
        version=1, data="iris", build=knn, loss="logloss", folds=5,
        space=[
            I("n_neighbors", 1, 60, log=True), C("weights", ["uniform", "distance"]), F("p", 1.0, 3.0),
            C("scaler", ["none", "standard", "minmax"])]),
    "logreg-breast": dict(
        version=1, data="breast_cancer", build=logreg, loss="logloss", folds=5,
        space=[
            F("C", 1e-4, 1e4, log=True), C("penalty", ["l1", "l2"]), C("class_weight", ["none", "balanced"]),
            C("fit_intercept", ["true", "false"]),
            F("intercept_scaling", 0.1, 10.0, log=True, when={"fit_intercept": ["true"]})]),
    "enet-diabetes": dict(
        version=1, data="diabetes", build=enet, loss="relmse", folds=5,
        space=[
            F("alpha", 1e-5, 10.0, log=True), F("l1_ratio", 0.01, 0.99, logit=True), I("degree", 1, 3),
            C("selection", ["cyclic", "random"])]),
    "mlp-adam-wine": dict(
        version=1, data="wine", build=mlp_adam, loss="logloss", folds=3,
        space=[
            I("layers", 1, 3), I("width", 4, 128, log=True), C("activation", ["relu", "tanh", "logistic"]),
            F("alpha", 1e-7, 1.0, log=True), F("learning_rate_init", 1e-5, 1e-1, log=True),
            I("batch_size", 16, 128, log=True), F("beta_1", 0.5, 0.99, logit=True),
            F("beta_2", 0.9, 0.9999, logit=True), F("epsilon", 1e-9, 1e-5, log=True)]),
    "mlp-sgd-breast": dict(
        version=1, data="breast_cancer", build=mlp_sgd, loss="logloss", folds=3,
        space=[
            I("layers", 1, 2), I("width", 8, 256, log=True), F("alpha", 1e-7, 1.0, log=True),
            F("learning_rate_init", 1e-4, 1.0, log=True), F("momentum", 0.5, 0.999, logit=True),
            C("nesterovs_momentum", ["true", "false"]), C("learning_rate", ["constant", "invscaling", "adaptive"]),
            F("power_t", 0.1, 1.0, when={"learning_rate": ["invscaling"]}), I("batch_size", 32, 256, log=True)]),
}

NAMES = list(PROBLEMS)
QUICK = ["dt-breast", "enet-diabetes", "mlp-adam-wine"]


# ---- configurations -----------------------------------------------------------------------


def active(space_entry, config):
    when = space_entry["when"]
    if not when:
        return True
    return all(parent in config and config[parent] in values for parent, values in when.items())


def canonical(problem, raw):
    """The configuration with each active parameter in its own type, clipped to its bounds,
    inactive ones dropped: the cache key's content."""
    config = {}
    for p in PROBLEMS[problem]["space"]:
        if not active(p, config):
            continue
        if p["name"] not in raw:
            raise ValueError(f"{problem}: configuration lacks active parameter {p['name']}: {raw}")
        value = raw[p["name"]]
        if p["kind"] == "cat":
            value = str(value)
            if value not in p["choices"]:
                raise ValueError(f"{problem}: {p['name']}={value!r} is not one of {p['choices']}")
        elif p["kind"] == "int":
            value = min(max(int(round(float(value))), p["low"]), p["high"])
        else:
            value = min(max(float(value), p["low"]), p["high"])
        config[p["name"]] = value
    return config


def sample(problem, rng):
    """A random configuration (log-uniform where `log`)."""
    config = {}
    for p in PROBLEMS[problem]["space"]:
        if not active(p, config):
            continue
        if p["kind"] == "cat":
            config[p["name"]] = p["choices"][rng.integers(len(p["choices"]))]
        elif p["log"]:
            v = math.exp(rng.uniform(math.log(p["low"] - (0.5 if p["kind"] == "int" else 0)),
                                     math.log(p["high"] + (0.5 if p["kind"] == "int" else 0))))
            config[p["name"]] = v
        else:
            config[p["name"]] = rng.uniform(p["low"], p["high"])
    return canonical(problem, config)


# ---- losses ----------------------------------------------------------------------------------

_folds = {}


def folds(problem):
    if problem not in _folds:
        from sklearn.model_selection import KFold, StratifiedKFold

        spec = PROBLEMS[problem]
        X, y = dataset(spec["data"])
        splitter = (KFold if spec["loss"] == "relmse" else StratifiedKFold)(spec["folds"], shuffle=True,
                                                                           random_state=0)
        _folds[problem] = list(splitter.split(X, y))
    return _folds[problem]


def _fold_loss(kind, model, X, y, labels):
    from sklearn.metrics import log_loss

    if kind == "error":
        return float(np.mean(model.predict(X) != y))
    if kind == "logloss":
        proba = model.predict_proba(X)
        if not np.all(np.isfinite(proba)):
            raise FloatingPointError("non-finite probabilities")
        return float(log_loss(y, proba, labels=labels))
    prediction = model.predict(X)
    if not np.all(np.isfinite(prediction)):
        raise FloatingPointError("non-finite predictions")
    return float(np.mean((prediction - y) ** 2) / np.var(y))


def fallback(problem):
    """The loss of a model that ignores the features (class priors, or the mean), given to a
    configuration whose training fails or diverges: what a practitioner's objective would
    report instead of crashing the study."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    spec = PROBLEMS[problem]
    X, y = dataset(spec["data"])
    labels = np.unique(y)
    losses = []
    for train, test in folds(problem):
        model = (DummyRegressor() if spec["loss"] == "relmse" else DummyClassifier(strategy="prior"))
        model.fit(X[train], y[train])
        losses.append(_fold_loss(spec["loss"], model, X[test], y[test], labels))
    return float(np.mean(losses))


def compute(problem, config):
    spec = PROBLEMS[problem]
    X, y = dataset(spec["data"])
    labels = np.unique(y)
    losses = []
    try:
        with np.errstate(all="ignore"):
            for train, test in folds(problem):
                model = spec["build"](config)
                model.fit(X[train], y[train])
                losses.append(_fold_loss(spec["loss"], model, X[test], y[test], labels))
        loss = float(np.mean(losses))
        if not math.isfinite(loss):
            raise FloatingPointError("non-finite loss")
    except (ValueError, FloatingPointError, OverflowError):
        return fallback(problem)
    return loss


class Cache:
    """Losses by (problem@version, configuration JSON) in SQLite, shared by concurrent runs."""

    def __init__(self, path=CACHE):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.db = sqlite3.connect(path, timeout=120, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS loss (problem TEXT, config TEXT, loss REAL, seconds REAL,"
            " PRIMARY KEY (problem, config))")

    @staticmethod
    def key(problem):
        return f"{problem}@{PROBLEMS[problem]['version']}"

    def evaluate(self, problem, raw):
        config = canonical(problem, raw)
        text = json.dumps(config, sort_keys=True)
        row = self.db.execute("SELECT loss FROM loss WHERE problem = ? AND config = ?",
                              (self.key(problem), text)).fetchone()
        if row is not None:
            return row[0]
        start = time.perf_counter()
        loss = compute(problem, config)
        self.db.execute("INSERT OR REPLACE INTO loss VALUES (?, ?, ?, ?)",
                        (self.key(problem), text, loss, time.perf_counter() - start))
        return loss

    def best_known(self, problem):
        row = self.db.execute("SELECT MIN(loss) FROM loss WHERE problem = ?", (self.key(problem),)).fetchone()
        return row[0]


def serve(problem):
    cache = Cache()
    print(json.dumps({"parameters": PROBLEMS[problem]["space"]}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(repr(cache.evaluate(problem, json.loads(line))), flush=True)


def time_problem(problem, count):
    rng = np.random.default_rng(12345)
    seconds = []
    for _ in range(count):
        config = sample(problem, rng)
        start = time.perf_counter()
        loss = compute(problem, config)
        seconds.append(time.perf_counter() - start)
    print(f"{problem}: median {np.median(seconds):.3f} s, mean {np.mean(seconds):.3f} s, max {max(seconds):.3f} s"
          f" (last loss {loss:.4g}, fallback {fallback(problem):.4g})")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "serve":
        serve(sys.argv[2])
    elif mode == "list":
        print("\n".join(QUICK if "--quick" in sys.argv else NAMES))
    elif mode == "time":
        time_problem(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")
