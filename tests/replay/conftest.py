"""Make the reliability fuzzer's random programs (tests/reliability) importable here."""

import sys
from pathlib import Path

RELIABILITY = str(Path(__file__).resolve().parent.parent / "reliability")
if RELIABILITY not in sys.path:
    sys.path.insert(0, RELIABILITY)
