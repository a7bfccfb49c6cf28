"""Writes the pickle one folder down, where the MLmodel is."""
import os, pickle, sys
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
with open(os.path.join(sys.argv[1], "pkg", "model", "model.pkl"), "wb") as f:
    pickle.dump(LogisticRegression(max_iter=500).fit(X, y), f)
