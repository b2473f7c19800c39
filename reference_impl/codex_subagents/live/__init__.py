"""The live watch of running jobs: who touched which path, and the alerts that come of it.

While jobs run, the monitor follows their patches and, after their shell commands,
the worktree itself; a path touched by two jobs whose runs overlap is a collision, a
write outside a declared scope is out of scope. Each alert is raised once.
"""
