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
  elasticnet an MLflow model folder (OUT_FILE is its directory) as mlflow.sklearn.save_model writes the
             ElasticNet of MLflow's sklearn_elasticnet_diabetes example: ten double columns (age, sex,
             bmi, bp, s1…s6), a tensor output, pins of what this machine has.
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
elif kind == "elasticnet":
    import json
    import os
    import platform

    import pandas
    import sklearn
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import ElasticNet

    data = load_diabetes(as_frame=True)
    model = ElasticNet(alpha=0.05, l1_ratio=0.5, random_state=42).fit(data.data, data.target)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "model.pkl"), "wb") as f:
        pickle.dump(model, f, protocol=4)
    columns = [{"type": "double", "name": c, "required": True} for c in data.data.columns]
    outputs = [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]
    pins = [f"scikit-learn=={sklearn.__version__}", f"numpy=={np.__version__}", f"pandas=={pandas.__version__}"]
    with open(os.path.join(out, "MLmodel"), "w") as f:
        f.write(
            "artifact_path: model\nflavors:\n  python_function:\n    env:\n      conda: conda.yaml\n"
            "      virtualenv: python_env.yaml\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n"
            f"    predict_fn: predict\n    python_version: {platform.python_version()}\n  sklearn:\n    code: null\n"
            "    pickled_model: model.pkl\n    serialization_format: cloudpickle\n"
            f"    sklearn_version: {sklearn.__version__}\nmlflow_version: 2.9.2\n"
            "model_uuid: 9e4c3f0b7a1d4e2f8c6b5a4d3e2f1a0b\nrun_id: 1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6\n"
            f"signature:\n  inputs: '{json.dumps(columns)}'\n  outputs: '{json.dumps(outputs)}'\n  params: null\n"
            "utc_time_created: '2023-12-04 10:21:33.170184'\n"
        )
    with open(os.path.join(out, "requirements.txt"), "w") as f:
        f.write("\n".join(pins) + "\n")
    with open(os.path.join(out, "conda.yaml"), "w") as f:
        f.write(f"channels:\n- conda-forge\ndependencies:\n- python={platform.python_version()}\n- pip\n- pip:\n"
                + "".join(f"  - {p}\n" for p in pins) + "name: mlflow-env\n")
    with open(os.path.join(out, "python_env.yaml"), "w") as f:
        f.write(f"python: {platform.python_version()}\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n")
    # Beside the folder: three rows and what the estimator itself predicts for them.
    rows = data.data.iloc[:3]
    with open(out.rstrip("/") + ".expected.json", "w") as f:
        json.dump({"columns": list(rows.columns), "data": rows.values.tolist(),
                   "predictions": model.predict(rows).tolist()}, f)
else:
    raise SystemExit(f"unknown kind {kind}")
