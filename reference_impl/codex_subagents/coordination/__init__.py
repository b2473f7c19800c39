"""A2's verdicts: what each job claims, how the claims compare with the worktree, and what a rollback may undo.

Given a worktree, a baseline and every job's claim (this server's jobs and those of
other servers on the repository), this part decides whether a batch is clean, which
paths overlap or are unclaimed, what a stopped job left behind, and which paths a
rollback leaves to another session.
"""
