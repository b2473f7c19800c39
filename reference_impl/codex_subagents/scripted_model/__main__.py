"""Run the scripted model server: ``python -m codex_subagents.scripted_model --script FILE``."""

import sys

from ._cli import main

sys.exit(main())
