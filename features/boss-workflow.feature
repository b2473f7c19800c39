Feature: Boss workflow
  The boss skill teaches Codex when to fan work out and how to run the loop of baseline, spawn, wait,
  collect, check, recover, verify and report, so that concurrent workers end in a checked worktree.

  Background:
    Given a git repository with a committed file "a.txt"
    And a committed file "b.txt"

  @req:codex-loads-the-boss-skill
  Scenario: Codex lists the boss skill
    Given the boss skill is installed in the project's skill directory
    When Codex starts a session in the project
    Then the skills Codex offers the model include "codex-subagents" with its description

  @req:the-skill-prescribes-the-loop
  Scenario: The skill names every step of the loop
    When the boss skill is read
    Then it names "codex_baseline, codex_spawn, codex_wait_any, codex_result, codex_overlaps, codex_rollback, codex_integrity"
    And it tells the boss to give each worker its own files
    And it tells the boss to do the work itself when the task does not split

  @req:the-skills-procedure-ends-on-every-report
  Scenario: The skill says what to do with every field of a report
    When the boss skill is read
    Then it names every field of the codex_overlaps report and every kind of alert
    And it tells the boss to stop and tell the user about a path beyond rollback

  @req:disjoint-work-completes-without-conflict
  Scenario: Two workers on disjoint files both complete without conflict
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "writer-b" that writes "b.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "writer-a"
    And the boss spawns a worker running script "writer-b"
    And the boss waits until jobs "writer-a, writer-b" are reported
    And the boss checks the overlaps of jobs "writer-a, writer-b"
    Then job "writer-a" has state "succeeded"
    And job "writer-b" has state "succeeded"
    And overlaps, unclaimed and unchanged_claims are empty
    And clean holds jobs "writer-a, writer-b"
    And the file "a.txt" holds the content written by "writer-a"
    And the file "b.txt" holds the content written by "writer-b"

  @req:overlapping-work-is-rolled-back-and-re-run
  Scenario: Same-file overlap is rolled back and re-run
    Given the server is running
    And a worker script "appender-a" that appends "from a" to "shared.txt" and reports it
    And a worker script "appender-b" that appends "from b" to "shared.txt" and reports it
    And a worker script "writer-c" that writes "c.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "appender-a"
    And the boss spawns a worker running script "appender-b"
    And the boss spawns a worker running script "writer-c"
    And the boss waits until jobs "appender-a, appender-b, writer-c" are reported
    And the boss checks the overlaps of jobs "appender-a, appender-b, writer-c"
    Then the overlaps map "shared.txt" to jobs "appender-a, appender-b"
    When the boss rolls back "shared.txt"
    And the boss re-runs job "appender-a" and waits until it is reported
    And the boss re-runs job "appender-b" and waits until it is reported
    Then the file "shared.txt" holds the lines "from a" and "from b"
    And the file "c.txt" holds the content written by "writer-c"

  @req:unreported-changes-are-rolled-back-and-re-run
  Scenario: An unclaimed change is rolled back and re-run
    Given the server is running
    And a worker script "shell-writer" that writes "c.txt" from the shell and reports no files
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "shell-writer"
    And the boss spawns a worker running script "writer-a"
    And the boss waits until jobs "shell-writer, writer-a" are reported
    And the boss checks the overlaps of jobs "shell-writer, writer-a"
    Then unclaimed holds "c.txt"
    When the boss rolls back "c.txt"
    And the boss re-runs job "shell-writer" and waits until it is reported
    Then the file "c.txt" holds the content written by "shell-writer"
    And the file "a.txt" holds the content written by "writer-a"

  @req:stopped-jobs-are-cleaned-up
  Scenario: A cancelled worker's leftovers are rolled back
    Given the server is running
    And a worker script "half-writer" that writes "a.txt" and then waits until released
    And a worker script "writer-b" that writes "b.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "half-writer"
    And the boss spawns a worker running script "writer-b"
    And the boss waits until job "writer-b" is reported
    And job "half-writer" has written "a.txt"
    And the boss cancels job "half-writer"
    And the boss checks the integrity of job "half-writer"
    And the boss rolls back the paths the integrity report lists
    Then the file "a.txt" holds its baseline bytes
    And the file "b.txt" holds the content written by "writer-b"

  @req:interrupted-jobs-are-inspected-and-re-run
  Scenario: An interrupted job is inspected and re-run
    Given the server is running
    And a worker script "half-writer" that writes "a.txt" and then waits until released
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "half-writer"
    And job "half-writer" has written "a.txt"
    And the server restarts
    And the boss waits until job "half-writer" is reported
    Then job "half-writer" has state "interrupted"
    When the boss reads the events of job "half-writer" from cursor 0
    And the boss checks the integrity of job "half-writer"
    And the boss rolls back the paths the integrity report lists
    And the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    Then job "writer-a" has state "succeeded"
    And the file "a.txt" holds the content written by "writer-a"
