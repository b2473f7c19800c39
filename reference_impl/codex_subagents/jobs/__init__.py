"""What a job is and what it leaves on disk: its request, its worker's command, its events, its record.

A worker is one `codex exec --json` process, started the way `worker` builds it under
the worker contract; its output is framed and normalized into events (`framing`,
`events`), journaled with the job's record (`journal`, which also holds the one rule of
which jobs work in a worktree), and read back after a restart or by another server on
the same repository (`registry`). `models` holds a job's states and the models the job
tools answer with.
"""
