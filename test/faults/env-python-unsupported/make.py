"""Writes an MLflow sklearn model folder's pickle with this interpreter's scikit-learn."""
import os, pickle, sys
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
target = os.path.join(sys.argv[1], os.environ.get("MODEL_SUBDIR", "model"))
X, y = load_iris(return_X_y=True)
with open(os.path.join(target, "model.pkl"), "wb") as f:
    pickle.dump(LogisticRegression(max_iter=500).fit(X, y), f)
