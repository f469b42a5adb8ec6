"""``python -m dualtape`` runs the ``dualtape`` command."""

import sys

from .cli import main

sys.exit(main())
