"""Channel-independent core of the e-LAAS outage assistant."""

import os

# pythainlp must never try the network or create a data directory in our processes.
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
