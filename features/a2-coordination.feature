Feature: A2 coordination
  Workers share one worktree and coordinate optimistically: the boss records a baseline,
  detects overlapping or unreported changes from three signals and rolls paths back byte for byte
  without losing the user's own work.

  Background:
    Given a git repository with a committed file "a.txt"
    And a committed file "b.txt"
    And the server is running

  @req:a-baseline-records-the-worktree-and-gits-state-without-touching-it
  Scenario: Taking a baseline leaves the worktree untouched
    Given the user has edited "a.txt" without committing
    And the user has staged a new file "staged.txt"
    And the user has an untracked file "c.txt"
    When the boss takes a baseline
    Then HEAD, the index, the stash list and every file are unchanged
    And the baseline commit holds "a.txt" with the user's edit
    And the baseline commit holds "staged.txt" and "c.txt"
    And a ref under "refs/codex-subagents/baselines/" points at the baseline commit

  @req:baselines-can-be-listed-and-dropped
  Scenario: A dropped baseline is no longer listed
    When the boss takes a baseline labelled "first"
    And the boss takes a baseline labelled "second"
    And the boss drops the baseline "first"
    Then the baselines listed are "second"
    And the ref of the baseline "first" no longer exists

  @req:overlaps-are-detected-from-three-signals
  Scenario: An overlap names the shared path and both jobs
    Given a worker script "appender-a" that appends "from a" to "shared.txt" and reports it
    And a worker script "appender-b" that appends "from b" to "shared.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "appender-a"
    And the boss spawns a worker running script "appender-b"
    And the boss waits until jobs "appender-a, appender-b" are reported
    And the boss checks the overlaps of jobs "appender-a, appender-b"
    Then the overlaps map "shared.txt" to jobs "appender-a, appender-b"
    And clean holds no job

  @req:overlaps-are-detected-from-three-signals
  Scenario: An unreported patch still counts as touched
    Given a worker script "patcher" that writes "a.txt" and reports no files
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "patcher"
    And the boss spawns a worker running script "writer-a"
    And the boss waits until jobs "patcher, writer-a" are reported
    And the boss checks the overlaps of jobs "patcher, writer-a"
    Then the overlaps map "a.txt" to jobs "patcher, writer-a"

  @req:touches-one-after-the-other-are-in-sequence
  Scenario: Two workers that write one file one after the other are in sequence
    Given a worker script "appender-a" that appends "from a" to "shared.txt" and reports it
    And a worker script "appender-b" that appends "from b" to "shared.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "appender-a"
    And the boss waits until job "appender-a" is reported
    And the boss spawns a worker running script "appender-b"
    And the boss waits until job "appender-b" is reported
    And the boss checks the overlaps of jobs "appender-a, appender-b"
    Then overlaps, unclaimed and unchanged_claims are empty
    And in_sequence maps "shared.txt" to jobs "appender-a, appender-b" in that order
    And clean holds jobs "appender-a, appender-b"

  @req:a-rollback-clears-the-touches-it-undid
  Scenario: Serial re-runs after a rollback come out clean
    Given a worker script "appender-a" that appends "from a" to "shared.txt" and reports it
    And a worker script "appender-b" that appends "from b" to "shared.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "appender-a"
    And the boss spawns a worker running script "appender-b"
    And the boss waits until jobs "appender-a, appender-b" are reported
    And the boss checks the overlaps of jobs "appender-a, appender-b"
    Then the overlaps map "shared.txt" to jobs "appender-a, appender-b"
    When the boss rolls back "shared.txt"
    And the boss re-runs job "appender-a" as "appender-a-again" and waits until it is reported
    And the boss re-runs job "appender-b" as "appender-b-again" and waits until it is reported
    And the boss checks the overlaps of jobs "appender-a, appender-b, appender-a-again, appender-b-again"
    Then overlaps, unclaimed and unchanged_claims are empty
    And in_sequence maps "shared.txt" to jobs "appender-a-again, appender-b-again" in that order
    And clean holds jobs "appender-a, appender-b, appender-a-again, appender-b-again"

  @req:under-reporting-is-flagged
  Scenario: A shell write is unclaimed
    Given a worker script "shell-writer" that writes "c.txt" from the shell and reports no files
    When the boss takes a baseline
    And the boss spawns a worker running script "shell-writer"
    And the boss waits until job "shell-writer" is reported
    And the boss checks the overlaps of jobs "shell-writer"
    Then unclaimed holds "c.txt"

  @req:under-reporting-is-flagged
  Scenario: A claim without a change is flagged
    Given a worker script "claimer" that reports "d.txt" without writing it
    When the boss takes a baseline
    And the boss spawns a worker running script "claimer"
    And the boss waits until job "claimer" is reported
    And the boss checks the overlaps of jobs "claimer"
    Then unchanged_claims holds "d.txt" for job "claimer"

  @req:under-reporting-is-flagged
  Scenario: An earlier job's change is not unclaimed in a later check
    Given a worker script "writer-c" that writes "c.txt" and reports it
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "writer-c"
    And the boss waits until job "writer-c" is reported
    And the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss checks the overlaps of jobs "writer-a"
    Then overlaps, unclaimed and unchanged_claims are empty
    And clean holds jobs "writer-a"

  @req:rollback-restores-the-baseline-exactly
  Scenario: Rollback undoes edits, creations and deletions
    Given a committed binary file "logo.bin"
    When the boss takes a baseline
    And the file "a.txt" is edited
    And the binary file "logo.bin" is overwritten
    And the file "b.txt" is deleted
    And the file "new/dir/n.txt" is created
    And the boss rolls back everything
    Then the file "a.txt" holds its baseline bytes
    And the file "logo.bin" holds its baseline bytes
    And the file "b.txt" holds its baseline bytes
    And the file "new/dir/n.txt" does not exist
    And the directory "new" does not exist

  @req:rollback-restores-the-baseline-exactly
  Scenario: Rollback restores modes and symlinks
    Given an executable committed file "run.sh"
    And a committed symlink "link" to "a.txt"
    When the boss takes a baseline
    And the file "run.sh" loses its executable bit
    And the symlink "link" is pointed at "b.txt"
    And the boss rolls back everything
    Then the file "run.sh" is executable
    And the symlink "link" points at "a.txt"

  @req:rollback-restores-the-baseline-exactly
  Scenario: Rolling back one path keeps other changes
    Given a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "writer-b" that writes "b.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "writer-a"
    And the boss spawns a worker running script "writer-b"
    And the boss waits until jobs "writer-a, writer-b" are reported
    And the boss rolls back "b.txt"
    Then the file "b.txt" holds its baseline bytes
    And the file "a.txt" holds the content written by "writer-a"

  @req:rollback-never-loses-the-users-earlier-work
  Scenario: Rollback keeps the user's uncommitted edits
    Given the user has edited "a.txt" without committing
    And the user has an untracked file "notes.txt"
    And the user has staged a new file "staged.txt"
    And a worker script "overwriter" that writes "a.txt" and "notes.txt" and reports them
    When the boss takes a baseline
    And the boss spawns a worker running script "overwriter"
    And the boss waits until job "overwriter" is reported
    And the boss rolls back everything
    Then the file "a.txt" holds the user's content
    And the file "notes.txt" holds the user's content
    And HEAD is unchanged and the index still stages "staged.txt"

  @req:rollback-waits-for-running-workers
  Scenario: Rollback is refused while a worker is running
    Given a worker script "sleeper" that waits until released
    When the boss takes a baseline
    And the boss spawns a worker running script "sleeper"
    And the boss rolls back everything
    Then the call is a tool error mentioning the job id of "sleeper" and "codex_wait_any"
    And no file has changed since the baseline

  @req:rollback-waits-for-running-workers
  Scenario: Rollback is refused while another server's worker runs
    Given a worker script "sleeper" that waits until released
    And a second server is running on the same repository
    When the boss takes a baseline
    And the boss of the second server spawns a worker running script "sleeper"
    And job "sleeper" is waiting on its model
    And the boss rolls back everything
    Then the call is a tool error mentioning the job id of "sleeper" and "codex_status"
    And no file has changed since the baseline
    And codex_status lists the job of "sleeper" under elsewhere

  @req:another-sessions-work-is-not-the-batchs
  Scenario: Another session's finished work is claimed and survives a rollback
    Given a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "writer-b" that writes "b.txt" and reports it
    And a second server is running on the same repository
    When the boss takes a baseline
    And the boss of the second server spawns a worker running script "writer-b"
    And the boss of the second server waits until job "writer-b" is reported
    And the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss checks the overlaps of jobs "writer-a"
    Then clean holds jobs "writer-a"
    And the overlaps list "b.txt" elsewhere for job "writer-b"
    When the boss rolls back everything
    Then the file "a.txt" holds its baseline bytes
    And the file "b.txt" holds the content written by "writer-b"
    And the rollback left "b.txt" as it was, naming job "writer-b"

  @req:rollback-inputs-are-checked
  Scenario: A rollback path outside the worktree is refused
    When the boss takes a baseline
    And the boss rolls back "../outside.txt"
    Then the call is a tool error mentioning "../outside.txt"
    And no file has changed since the baseline

  @req:rollback-inputs-are-checked
  Scenario: A baseline id that looks like an option is refused
    When the boss rolls back everything to the baseline id "--all"
    Then the call is a tool error mentioning "--all" and "codex_baselines"

  @req:integrity-lists-what-a-stopped-job-left-behind
  Scenario: Integrity lists what a cancelled worker left behind
    Given a worker script "leaver" that writes "a.txt", writes "c.txt" from the shell and then waits until released
    And a worker script "writer-b" that writes "b.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "leaver"
    And the boss spawns a worker running script "writer-b"
    And the boss waits until job "writer-b" is reported
    And job "leaver" has written "c.txt"
    And the boss cancels job "leaver"
    And the boss checks the integrity of job "leaver"
    Then the integrity report lists "a.txt" as changed by job "leaver"
    And the integrity report lists "c.txt" as changed by job "leaver" or as a suspect
    And the integrity report does not list "b.txt"

  @req:a-write-the-server-saw-is-a-claim-until-a-rollback-puts-it-back
  Scenario: A cancelled worker's shell write after a patch stays an overlap
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    And a worker script "shell-b" that appends "from b" to "shared.txt" from the shell and then waits until released
    When the boss takes a baseline
    And the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And the boss spawns a worker running script "shell-b"
    And job "shell-b" is waiting on its model
    And the boss waits for any job with timeout_s 60
    Then wait-any lists one collision on "shared.txt" by jobs "holder" then "shell-b", seen by "worktree"
    When the boss cancels job "shell-b"
    And the held turn of job "holder" is released
    And the boss waits until jobs "holder, shell-b" are reported
    And the boss checks the overlaps of jobs "holder, shell-b"
    Then the overlaps map "shared.txt" to jobs "holder, shell-b"
    And clean holds no job
    And seen lists "shared.txt" for job "shell-b"

  @req:a-write-the-server-saw-is-a-claim-until-a-rollback-puts-it-back
  Scenario: A cancelled worker's shell write before a patch stays an overlap
    Given a worker script "shell-a" that appends "from a" to "shared.txt" from the shell and then waits until released
    And a worker script "patcher-b" that appends "from b" to "shared.txt" through a patch and then waits until released
    When the boss takes a baseline
    And the boss spawns a worker running script "shell-a" with scope "own.txt"
    And the boss waits for any job with timeout_s 60
    Then wait-any lists one out_of_scope alert on "shared.txt" by job "shell-a", seen by "worktree"
    When the boss spawns a worker running script "patcher-b"
    And job "patcher-b" is waiting on its model
    And the boss waits for any job with timeout_s 60
    Then wait-any lists one collision on "shared.txt" by jobs "shell-a" then "patcher-b", seen by "file_change"
    When the boss cancels job "shell-a"
    And the held turn of job "patcher-b" is released
    And the boss waits until jobs "shell-a, patcher-b" are reported
    And the boss checks the overlaps of jobs "shell-a, patcher-b"
    Then the overlaps map "shared.txt" to jobs "shell-a, patcher-b"
    And clean holds no job
    And seen lists "shared.txt" for job "shell-a"

  @req:a-path-no-rollback-can-clear-is-named-with-why
  Scenario: An overlap another session wrote too is beyond rollback
    Given a worker script "appender-x" that appends "from x" to "shared.txt" and reports it
    And a worker script "appender-a" that appends "from a" to "shared.txt" and reports it
    And a worker script "appender-b" that appends "from b" to "shared.txt" and reports it
    And a second server is running on the same repository
    When the boss takes a baseline
    And the boss of the second server spawns a worker running script "appender-x"
    And the boss of the second server waits until job "appender-x" is reported
    And the boss spawns a worker running script "appender-a"
    And the boss spawns a worker running script "appender-b"
    And the boss waits until jobs "appender-a, appender-b" are reported
    And the boss checks the overlaps of jobs "appender-a, appender-b"
    Then the overlaps map "shared.txt" to jobs "appender-a, appender-b"
    And beyond_rollback names "shared.txt" with the job id of "appender-x"
