"""Train a character-level LSTM language model on public-domain verse, printing samples.

    python examples/train_charlm.py [--minutes 3] [--cell gru] [--hidden 256]

The same as ``python -m minigrad charlm``. The code, with the truncated-BPTT loop written out
(carry the state from chunk to chunk, detached; clip the gradient norm before each update), is
``minigrad/charlm.py``, inside the package so that the command works after a plain install.
"""

from __future__ import annotations

import sys

from minigrad import charlm

if __name__ == "__main__":
    sys.exit(charlm.run())
