Feature: Job primitives
  The server offers typed MCP tools that start Codex workers in the background,
  wait for them, collect their results and stop them.

  Background:
    Given a git repository with a committed file "a.txt"

  @req:spawn-returns-at-once
  Scenario: Spawn returns while the worker is still running
    Given the server is running
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "sleeper"
    Then the spawn of job "sleeper" returned state "running"
    And the status lists job "sleeper" as "running"

  @req:spawn-returns-at-once
  Scenario: Spawn echoes the label
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with label "alpha"
    And the boss waits until job "alpha" is reported
    Then the spawn of job "alpha" returned label "alpha"
    And the status lists job "alpha" with label "alpha"
    And wait-any reported job "alpha" with label "alpha"
    And the result of job "alpha" has label "alpha"

  @req:wait-any-reports-each-finished-job-once
  Scenario: Wait-any returns the job that finished first
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "writer-a"
    And the boss spawns a worker running script "sleeper"
    And job "sleeper" is waiting on its model
    And the boss waits for any job
    Then wait-any reports only job "writer-a" as finished, with its job_id, label, state and summary
    And wait-any lists job "sleeper" as pending, with its job_id, label, state, elapsed_s, queue_position and last_event

  @req:wait-any-reports-each-finished-job-once
  Scenario: A finished job is reported only once
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "writer-a"
    And the boss spawns a worker running script "sleeper"
    And the boss waits until job "writer-a" is reported
    And the boss waits for any job with timeout_s 1
    Then wait-any reports no finished job and timed out
    And wait-any lists job "sleeper" as pending

  @req:wait-any-reports-each-finished-job-once
  Scenario: Wait-any ignores jobs outside the named set
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "writer-a"
    And the boss spawns a worker running script "sleeper"
    And job "writer-a" has finished
    And the boss waits for job "sleeper" with timeout_s 1
    Then wait-any reports no finished job and timed out
    When the boss waits for any job
    Then wait-any reports only job "writer-a" as finished

  @req:wait-any-returns-before-the-tool-call-times-out
  Scenario: Wait-any clamps a long timeout to the wait cap
    Given the server is running with a wait cap of 1 second
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "sleeper"
    And the boss waits for any job with timeout_s 600
    Then wait-any reports no finished job and timed out
    And wait-any lists job "sleeper" as pending

  @req:results-describe-finished-jobs
  Scenario: Result of a succeeded job
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss reads the result of job "writer-a"
    Then the result of job "writer-a" has state "succeeded"
    And the result of job "writer-a" has exit_code 0
    And the result of job "writer-a" has modified_files ["a.txt"]
    And the result of job "writer-a" has observed_files ["a.txt"]
    And the result of job "writer-a" has the token usage of its turn

  @req:results-describe-finished-jobs
  Scenario: A worker whose turn fails ends failed
    Given the server is running
    And a worker script "failer" whose turn fails with "model overloaded"
    When the boss spawns a worker running script "failer"
    And the boss waits until job "failer" is reported
    And the boss reads the result of job "failer"
    Then the result of job "failer" has state "failed"
    And the result of job "failer" has an exit_code other than 0
    And the result of job "failer" has error containing "model overloaded"

  @req:results-describe-finished-jobs
  Scenario: Result of an unfinished job is refused
    Given the server is running
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "sleeper"
    And the boss reads the result of job "sleeper"
    Then the call is a tool error mentioning the job id of "sleeper" and "codex_wait_any"

  @req:cancel-stops-the-whole-worker
  Scenario: Cancel stops the worker and its child processes
    Given the server is running
    And a worker script "child-keeper" that starts a background process and waits until released
    When the boss spawns a worker running script "child-keeper"
    And job "child-keeper" has started its background process
    And the boss reads the events of job "child-keeper" from cursor 0
    And the boss cancels job "child-keeper"
    Then no process of the process group of job "child-keeper" is alive
    And job "child-keeper" has state "cancelled"
    And the events of job "child-keeper" from cursor 0 still hold the events read before the cancel

  @req:cancel-stops-the-whole-worker
  Scenario: Cancelling a finished job changes nothing
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss cancels job "writer-a"
    Then the cancel says that job "writer-a" had already finished
    And job "writer-a" has state "succeeded"

  @req:status-summarises-the-jobs
  Scenario: Status lists every job with its elapsed time
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "writer-a"
    And the boss spawns a worker running script "sleeper"
    And job "writer-a" has finished
    And the boss reads the status
    Then the status lists job "writer-a" as "succeeded" with its elapsed_s
    And the status lists job "sleeper" as "running" with its elapsed_s
    And the status counts 1 running and 0 queued with cap 4

  @req:status-summarises-the-jobs
  Scenario: A job whose report was lost is found finished
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss waits for job "writer-a" again
    Then wait-any returns at once with nothing finished and nothing pending
    When the boss reads the status
    Then the status lists job "writer-a" as "succeeded" and reported
    And the boss can read the result of job "writer-a"

  @req:errors-tell-the-caller-what-to-fix
  Scenario: An unknown job id is a tool error
    Given the server is running
    When the boss reads the result of job id "no-such-job"
    Then the call is a tool error mentioning "no-such-job" and "codex_status"

  @req:errors-tell-the-caller-what-to-fix
  Scenario: Arguments that break the schema are a tool error naming them
    Given the server is running
    When a client calls "codex_spawn" without a prompt
    Then the call is a tool error mentioning "prompt" and "Field required"
    And no job was created

  @req:tools-declare-their-effects
  Scenario: Tool annotations mark read-only and destructive tools
    Given the server is running
    When a client lists the tools
    Then the tools "codex_events, codex_result, codex_status, codex_baselines, codex_overlaps, codex_integrity" are read-only
    And the tools "codex_cancel, codex_rollback, codex_baseline_drop" are destructive
    And the tools "codex_spawn, codex_wait_any, codex_baseline" change state without destroying anything

  @req:one-jobs-failure-is-that-jobs-alone
  Scenario: A failure inside one job leaves the others running
    Given the server is running with cap 1
    And a worker script "sleeper" that waits until released
    And a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "writer-b" that writes "b.txt" and reports it
    When the boss spawns a worker running script "sleeper"
    And the boss spawns a worker running script "writer-a"
    And the boss spawns a worker running script "writer-b"
    And the record of job "writer-a" can no longer be written
    And job "sleeper" is released
    And the boss waits until jobs "writer-a, writer-b" are reported
    Then job "writer-a" has state "failed"
    And the result of job "writer-a" has error containing "could not go on with this job"
    And job "writer-b" has state "succeeded"
    And job "sleeper" has state "succeeded"
