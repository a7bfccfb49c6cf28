"""Threads or worker processes for concurrent scikit-learn predictions in one instance?

Scores single rows with a fitted LogisticRegression three ways for the same wall time: one thread,
a pool of N threads, a pool of N processes (N = available cores). Prints JSON with predictions per
second for each, so the caller reports the ratios next to the one-thread baseline.
"""

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True)
MODEL = LogisticRegression(max_iter=500).fit(X, y)
ROW = X[:1]
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0


def burst(count):
    for _ in range(count):
        MODEL.predict(ROW)
    return count


def rate(pool, workers):
    chunk = 200
    done = 0
    end = time.perf_counter() + SECONDS
    start = time.perf_counter()
    while time.perf_counter() < end:
        done += sum(pool.map(burst, [chunk] * workers))
    return done / (time.perf_counter() - start)


if __name__ == "__main__":
    workers = max(2, len(os.sched_getaffinity(0)))
    start = time.perf_counter()
    single = burst(3000) / (time.perf_counter() - start)
    with ThreadPoolExecutor(workers) as threads:
        threaded = rate(threads, workers)
    with ProcessPoolExecutor(workers) as processes:
        processes.map(burst, [1] * workers)  # warm the workers: imports and the fit happen once per process
        forked = rate(processes, workers)
    print(json.dumps({"workers": workers, "single": single, "threads": threaded, "processes": forked, "numpy": np.__version__}))
