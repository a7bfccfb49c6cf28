"""Writes pickles as other library versions and other projects write them, for the environment tests.

Usage: make_pickles.py KIND OUT_FILE
  numpy2     a LogisticRegression pickled as numpy 2 and scikit-learn 1.7.1 write it: its arrays go
             through numpy._core.multiarray._reconstruct (numpy 2's module) and its state records
             _sklearn_version 1.7.1. Made here, with numpy 1, by naming those modules when pickling.
  lightgbm   a pickle of an object whose class lives in lightgbm.sklearn (LGBMClassifier), as a
             LightGBM model pickled by scikit-learn's API is, without lightgbm installed.
  featurelib a Pipeline whose first step is featurelib.Scale, a transformer from the project's own
             module featurelib.py (which must be on sys.path: the caller puts it there).
  main       the same transformer, defined in the training script itself (__main__).
Each pickle is written by this interpreter's pickle; none of them is loaded here.
"""

import pickle
import sys
import types

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

kind, out = sys.argv[1], sys.argv[2]
X, y = load_iris(return_X_y=True)


def fake_module(name, **members):
    """Registers a module under `name` so that pickle can name it; its members claim to live there."""
    module = types.ModuleType(name)
    for key, value in members.items():
        setattr(module, key, value)
        if hasattr(value, "__qualname__"):
            value.__module__ = name
    parts = name.split(".")
    for i in range(1, len(parts)):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    sys.modules[name] = module
    return module


if kind == "numpy2":
    import sklearn.base

    def _reconstruct(*args):  # what numpy 2 pickles arrays through
        raise RuntimeError("only named, never called")

    fake_module("numpy._core.multiarray", _reconstruct=_reconstruct)
    sklearn.base.__version__ = "1.7.1"  # what BaseEstimator.__getstate__ records as _sklearn_version
    model = LogisticRegression(max_iter=300).fit(X, y)

    class Numpy2Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, np.ndarray):
                return (_reconstruct, (np.ndarray, (0,), b"b"), (1, obj.shape, obj.dtype, False, obj.tobytes()))
            return NotImplemented

    with open(out, "wb") as f:
        Numpy2Pickler(f, protocol=4).dump(model)
elif kind == "lightgbm":

    class LGBMClassifier:
        def __init__(self):
            self.n_estimators = 10

    fake_module("lightgbm.sklearn", LGBMClassifier=LGBMClassifier)
    with open(out, "wb") as f:
        pickle.dump(LGBMClassifier(), f, protocol=4)
elif kind in ("featurelib", "main"):
    if kind == "featurelib":
        import featurelib

        scale = featurelib.Scale()
    else:
        from sklearn.base import BaseEstimator, TransformerMixin

        class Scale(BaseEstimator, TransformerMixin):
            def fit(self, X, y=None):
                return self

            def transform(self, X):
                return X / 10.0

        scale = Scale()
    model = Pipeline([("scale", scale), ("clf", LogisticRegression(max_iter=300))]).fit(X, y)
    with open(out, "wb") as f:
        pickle.dump(model, f, protocol=4)
else:
    raise SystemExit(f"unknown kind {kind}")
