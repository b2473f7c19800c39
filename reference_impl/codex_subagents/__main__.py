"""Run the ``codex-subagents`` command with ``python -m codex_subagents``."""

import sys

from .cli import main

sys.exit(main())
