"""Make the fuzzer's helpers (rel_programs, rel_library) importable in any import mode."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
