"""The user's Codex home as this server reads it: the set-up files, the boss skill, and what of them stays out of
workers.

`codex_setup` reads what the user's ``config.toml`` and enabled plugins declare (MCP
servers, skill folders); `skill` is the boss skill this package carries; `boss_only`
turns this server's entries and the skill off inside every worker, so workers never
start the server or read the skill. Nothing here starts a process.
"""
