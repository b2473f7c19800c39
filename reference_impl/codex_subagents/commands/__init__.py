"""The command line: serve, doctor, skill, the demo, and the tests' scripted model.

`cli` parses the command line and starts the server; `doctor` checks a user's set-up
and says how to fix it; `demo` runs a real Codex boss and three workers offline. The
scripted model is reached through `cli` too, and left out of its everyday ``--help``.
"""
