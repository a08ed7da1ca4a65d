"""graph_sklearn.py: the peer of gfuse's graph build in bench/graph_bench.c.

Exact k nearest neighbours of every row of each modality matrix, with scikit-learn's
NearestNeighbors(algorithm="brute", n_jobs=2), the same matrices gfuse reads. Prints one JSON
line: the wall time of each run (all modalities), the medians of wall and CPU time (all
threads) and the peak resident memory.

usage: graph_sklearn.py METRIC K RUNS FILE.npy [FILE.npy ...]
"""
import json
import resource
import statistics
import sys
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors


def main():
    metric, k, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    mats = [np.load(path) for path in sys.argv[4:]]
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for x in mats:
            # k + 1: every row is its own nearest neighbour, which the graph leaves out
            nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute", metric=metric, n_jobs=2)
            nn.fit(x)
            nn.kneighbors(x)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"times": times, "median": statistics.median(times),
                      "cpu_median": statistics.median(cpu), "peak_rss_mib": peak_kib / 1024.0}))


if __name__ == "__main__":
    main()
