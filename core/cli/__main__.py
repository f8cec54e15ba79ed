"""`python -m core.cli …` (used by ``core.jobs`` and ``accelerate launch -m core.cli``)."""

import sys

from core.cli import main

sys.exit(main())
