"""Run the ``codex-subagents`` command with ``python -m codex_subagents``."""

import sys

from .commands.cli import main

sys.exit(main())
