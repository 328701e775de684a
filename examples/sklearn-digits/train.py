"""An SVM on scikit-learn's bundled digits (8x8 images, 10 classes; no download), for hpod.

A quick test trains on a subsample of one cross-validation fold's training part and reports
the accuracy on that fold's held-out part: hpod's repeats are the folds (HPOD_REPEAT picks
the fold, HPOD_SEED the subsample), so a configuration repeated five times is a 5-fold
cross-validation. A full training fits all of the development data and reports the accuracy
on a test set no quick test ever saw, and saves the model for registration.
"""

import argparse
import json
import os
import pickle
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC


def report(**metrics):
    print("hpod " + json.dumps(metrics), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, required=True)
    parser.add_argument("--gamma", type=float, required=True)
    parser.add_argument("--subsample", type=float, default=1.0, help="share of the training part used")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    tier = os.environ.get("HPOD_TIER", "quick_test")
    repeat = int(os.environ.get("HPOD_REPEAT", "0"))
    seed = int(os.environ.get("HPOD_SEED", "0"))

    digits = load_digits()
    # The same split for every trial: the test set is only ever seen by full trainings.
    x_dev, x_test, y_dev, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, stratify=digits.target, random_state=0
    )
    model = make_pipeline(StandardScaler(), SVC(C=args.C, gamma=args.gamma))
    started = time.perf_counter()
    if tier == "full_training":
        model.fit(x_dev, y_dev)
        accuracy = float(model.score(x_test, y_test))
        artifacts = os.environ.get("HPOD_ARTIFACT_DIR", ".")
        with open(os.path.join(artifacts, "model.pkl"), "wb") as out:
            pickle.dump(model, out)
    else:
        folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
        train, held_out = list(folds.split(x_dev, y_dev))[repeat % args.folds]
        rng = np.random.default_rng(seed)
        keep = rng.choice(train, size=max(20, int(len(train) * args.subsample)), replace=False)
        model.fit(x_dev[keep], y_dev[keep])
        accuracy = float(model.score(x_dev[held_out], y_dev[held_out]))
    report(accuracy=accuracy, fit_seconds=time.perf_counter() - started, final=True)


if __name__ == "__main__":
    main()
