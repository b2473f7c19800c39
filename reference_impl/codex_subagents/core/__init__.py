"""The ground every part stands on: settings, errors, paths, and the two doors to the machine.

`config` holds the settings read once at start and finds the Codex binary, and
`state_layout` names every path of the state dir; `compat`
declares the Codex releases the server is tested with; `errors` is the small tree of
exceptions a caller can catch; `paths` confines a path to a worktree and quotes it the
way git does; `git` is the one async git runner, with its fixed environment; `procs`
finds and stops processes safely (psutil, pid reuse checked); `offload` runs bulk work
away from the event loop. No other part touches git or processes directly.
"""
