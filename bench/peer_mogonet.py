"""Times one MOGONET training (Wang et al., Nature Communications 2021) with its published code
and default ROSMAP hyperparameters (500 pretraining and 2,500 training epochs, its learning
rates) on the CPU, and prints the wall time and MOGONET's own test scores.

    THREADS=2 /usr/bin/python3 bench/peer_mogonet.py MOGONET_DIR

MOGONET_DIR is a checkout of github txWang/MOGONET (it carries ROSMAP in its own layout). The
code is imported from there, not copied. Two shims keep it running on Debian 12's numpy and
torch: numpy.asscalar (removed in numpy 1.23) maps to .item(), and torch and BLAS threads are
set so the run uses THREADS cores without oversubscribing them (torch's intra-op threads over a
single-threaded BLAS; OpenBLAS's own threads on top of torch's run three times slower here).
"""
import os
import sys
import time

if len(sys.argv) != 2 or not os.path.isfile(os.path.join(sys.argv[1], "train_test.py")):
    sys.exit("usage: peer_mogonet.py MOGONET_DIR (a checkout of github txWang/MOGONET)")
threads = int(os.environ.get("THREADS", "2"))
os.environ["OMP_NUM_THREADS"] = str(threads)
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np  # noqa: E402

if not hasattr(np, "asscalar"):
    np.asscalar = lambda a: a.item()
import torch  # noqa: E402

torch.set_num_threads(threads)
os.chdir(sys.argv[1])
sys.path.insert(0, os.getcwd())
from train_test import train_test  # noqa: E402

t0 = time.time()
train_test("ROSMAP", [1, 2, 3], 2, 1e-3, 5e-4, 1e-3, 500, 2500)
print("mogonet_seconds %.2f torch %s threads %d" % (time.time() - t0, torch.__version__, threads))
