"""The worktree as A2 sees it: where a tool works, what is on disk, what a baseline recorded, how to put it back.

A snapshot records every file byte for byte and mode for mode, ignored files, git's own
state (HEAD, the index, the stash) and the git directory's files that decide what git
runs included; a baseline keeps one; a comparison says what changed since; a rollback
plans the steps that undo it, then applies them. A scope says which files a job owns.
Nothing here knows about jobs.
"""
