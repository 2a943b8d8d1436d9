"""Plain numpy/scipy twins of the numba kernels, used as oracles in the tests.

Each section belongs to one kernel module; integer results are compared exactly.
"""

import numpy as np
import scipy.sparse as sp

# --- block counts (fastbip/_kernels/blocks.py) -------------------------------

# --- generation (fastbip/_kernels/generate.py) ------------------------------

# --- block-model fit (fastbip/_kernels/dcsbm.py) ----------------------------
