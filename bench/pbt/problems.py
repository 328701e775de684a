"""The two PBT problems, as step functions every runner imports (trial.py for hpod, ray_pbt.py
for Ray Tune), so both train exactly the same thing.

toy: the toy problem of the PBT paper (Jaderberg et al. 2017, section 4.1). θ ∈ R² starts at
  (0.9, 0.9); the true objective is Q(θ) = 1.2 − (θ0² + θ1²); each step is one gradient ascent
  step of fixed size on the surrogate Q̂(θ|h) = 1.2 − (h0 θ0² + h1 θ1²), whose hyperparameters
  h = (h0, h1) say which coordinates the step sees. A single h gets stuck: h = (1, 0) never
  moves θ1; PBT's exploit and explore combine both directions. Reported: Q(θ) each step.
digits: a small real training. scikit-learn's MLPClassifier (one hidden layer of 32, plain SGD
  with momentum) trained with partial_fit on the bundled digits data set, one epoch per step;
  hyperparameters the learning rate `lr` (log scale) and the L2 penalty `alpha` (log scale),
  which a PBT schedule can change between steps (high learning rate early, lower later).
  Reported: validation accuracy each step. State: the pickled model, the step, the shuffling
  generator.
"""

import math
import pickle
import random

TOY_STEP_SIZE = 0.01

# Hyperparameters: name -> (low, high, log scale). The initial population samples these.
SPACES = {
    "toy": {"h0": (0.0, 1.0, False), "h1": (0.0, 1.0, False)},
    "digits": {"lr": (1e-4, 0.5, True), "alpha": (1e-6, 1e-1, True)},
}
STEPS = {"toy": 40, "digits": 24}


def sample(problem, rng):
    """A random configuration of PROBLEM's space, drawn from rng (a random.Random)."""
    config = {}
    for name, (low, high, log) in SPACES[problem].items():
        config[name] = math.exp(rng.uniform(math.log(low), math.log(high))) if log else rng.uniform(low, high)
    return config


# --- toy ---------------------------------------------------------------------------------

def toy_init(seed):
    return {"theta": [0.9, 0.9], "step": 0}


def toy_step(state, params):
    h = (float(params["h0"]), float(params["h1"]))
    theta = state["theta"]
    # ∇Q̂ = (−2 h0 θ0, −2 h1 θ1)
    theta = [theta[i] + TOY_STEP_SIZE * (-2.0 * h[i] * theta[i]) for i in range(2)]
    return {"theta": theta, "step": state["step"] + 1}


def toy_score(state):
    theta = state["theta"]
    return 1.2 - (theta[0] ** 2 + theta[1] ** 2)


# --- digits ------------------------------------------------------------------------------

_DATA = None


def _digits():
    """The digits data set, split once (fixed seed) into 1,347 training and 450 validation rows."""
    global _DATA
    if _DATA is None:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        x, y = load_digits(return_X_y=True)
        x = x / 16.0
        _DATA = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    return _DATA


def digits_init(seed):
    from sklearn.neural_network import MLPClassifier
    model = MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", momentum=0.9, batch_size=64,
                          learning_rate="constant", random_state=seed)
    return {"model": model, "step": 0, "rng": random.Random(seed).getstate()}


def digits_step(state, params):
    import numpy as np
    x_train, _, y_train, _ = _digits()
    model = state["model"]
    lr, alpha = float(params["lr"]), float(params["alpha"])
    model.set_params(learning_rate_init=lr, alpha=alpha)
    # partial_fit builds its optimizer once, from learning_rate_init at the first call: a
    # learning rate changed later (PBT's explore) must reach the optimizer itself.
    if hasattr(model, "_optimizer"):
        model._optimizer.learning_rate = lr
    rng = random.Random()
    rng.setstate(state["rng"])
    order = list(range(len(y_train)))
    rng.shuffle(order)
    order = np.array(order)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a diverging learning rate is a bad score, not a crash
        model.partial_fit(x_train[order], y_train[order], classes=np.arange(10))
    return {"model": model, "step": state["step"] + 1, "rng": rng.getstate()}


def digits_score(state):
    import numpy as np
    _, x_val, _, y_val = _digits()
    model = state["model"]
    if not all(np.isfinite(w).all() for w in model.coefs_):
        return 0.0
    return float(model.score(x_val, y_val))


PROBLEMS = {
    "toy": (toy_init, toy_step, toy_score),
    "digits": (digits_init, digits_step, digits_score),
}


def save(state, path):
    with open(path, "wb") as f:
        pickle.dump(state, f)


def load(path):
    with open(path, "rb") as f:
        return pickle.load(f)
