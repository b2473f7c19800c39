"""Shell commands the tests give workers and families of processes, alike on Linux and macOS."""

from __future__ import annotations

import shlex
import sys

SETSID = shlex.join([sys.executable, "-c", "import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])"])
"""Prefix that runs a command in a session of its own, as util-linux's ``setsid`` does; macOS has no such command."""
