"""Writes models as joblib.dump writes them, for the pickle scan's tests.

Usage: make_joblib.py KIND OUT_FILE
  forest      a RandomForestClassifier, uncompressed: its arrays are raw buffers between the opcodes
  trap        the same, with a uint8 array whose raw bytes spell what a pickle opcode naming a module
              'lfq3csklearn.ensemble._forest' would look like: a reader that does not step over arrays
              as joblib does sees a module that does not exist
  compressed  the forest, with compress=3 (zlib)
  objects     a dict holding an object array (a nested pickle), a unicode array and the forest
  truncated   the forest's file cut short, as a copy interrupted mid-way leaves it
"""

import sys

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier

kind, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
X = rng.random((120, 4))
forest = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, (X[:, 0] > 0.5).astype(int))
if kind == "forest":
    joblib.dump(forest, out)
elif kind == "trap":
    fake = b"\x8c\x1dlfq3csklearn.ensemble._forest\x94\x8c\x16RandomForestClassifier\x94\x93"
    joblib.dump({"model": forest, "weights": np.frombuffer(fake * 40, dtype=np.uint8)}, out)
elif kind == "compressed":
    joblib.dump(forest, out, compress=3)
elif kind == "objects":
    joblib.dump({"names": np.array(["a", None, 3], dtype=object), "text": np.array(["héllo", "x"]), "model": forest}, out)
elif kind == "truncated":
    joblib.dump(forest, out)
    with open(out, "rb") as f:
        data = f.read()
    with open(out, "wb") as f:
        f.write(data[: len(data) * 2 // 3])
else:
    raise SystemExit(f"unknown kind {kind}")
