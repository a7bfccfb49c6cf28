"""Writes a pickle as scikit-learn 0.20 wrote LogisticRegression: from sklearn.linear_model.logistic,
a module scikit-learn 0.24 removed. Only the opcodes matter; nothing here imports scikit-learn."""
import os, sys
# GLOBAL 'sklearn.linear_model.logistic LogisticRegression', EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, BUILD, STOP
data = b"\x80\x02csklearn.linear_model.logistic\nLogisticRegression\nq\x00)\x81q\x01}q\x02b."
with open(os.path.join(sys.argv[1], "model", "model.pkl"), "wb") as f:
    f.write(data)
