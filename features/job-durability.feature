Feature: Job durability
  Every job is journaled on disk, so that results, cursors and what wait-any reported survive a server restart,
  and work a restart interrupted is stopped and reported instead of being lost.

  Background:
    Given a git repository with a committed file "a.txt"

  @req:jobs-are-journaled-in-the-git-directory
  Scenario: The journal stays out of git status
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    Then ".git/codex-subagents/" holds the journal of job "writer-a"
    And git status lists only "a.txt" as changed

  @req:finished-jobs-survive-a-restart
  Scenario: A finished result survives a restart
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss reads the result of job "writer-a"
    And the boss reads the events of job "writer-a" from cursor 0
    And the server restarts
    Then the result of job "writer-a" is the same as before the restart
    And the events of job "writer-a" from cursor 0 are the same as before the restart

  @req:cursors-survive-a-restart
  Scenario: A cursor from before a restart still works
    Given the server is running
    And a worker script "five-commands" that runs 5 shell commands
    When the boss spawns a worker running script "five-commands"
    And the boss waits until job "five-commands" is reported
    And the boss reads the events of job "five-commands" with limit 2 from cursor 0
    And the server restarts
    And the boss reads the events of job "five-commands" from the last next_cursor until the end
    Then the pages hold every event of job "five-commands" exactly once and in order

  @req:interrupted-work-is-stopped-and-reported
  Scenario: A running job is interrupted by a restart
    Given the server is running
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "sleeper"
    And job "sleeper" is waiting on its model
    And the boss reads the events of job "sleeper" from cursor 0
    And the server is killed and started again
    Then job "sleeper" has state "interrupted"
    And the events of job "sleeper" from cursor 0 still hold the events read before the restart
    And no process of the process group of job "sleeper" is alive
    When the boss waits for any job
    Then wait-any reports only job "sleeper" as finished

  @req:interrupted-work-is-stopped-and-reported
  Scenario: A queued job is interrupted by a restart
    Given the server is running with cap 1
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "sleeper" with label "s1"
    And the boss spawns a worker running script "sleeper" with label "s2"
    And the server is killed and started again
    Then job "s2" has state "interrupted"
    And job "s2" has no events
    And no worker process was started for job "s2"

  @req:wait-any-reports-once-across-restarts
  Scenario: A job reported before a restart is not reported again
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the server restarts
    And the boss waits for any job with timeout_s 1
    Then wait-any returns at once with no finished job and nothing pending

  @req:a-torn-journal-line-is-tolerated
  Scenario: A torn last journal line is dropped
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss reads the result of job "writer-a"
    And the boss spawns a worker running script "sleeper"
    And job "sleeper" is waiting on its model
    And the boss reads the events of job "sleeper" from cursor 0
    And the server is killed
    And half a line is appended to the journal of job "sleeper"
    And the server is started again
    Then job "sleeper" has state "interrupted"
    And the events of job "sleeper" from cursor 0 still hold the events read before the restart
    And the result of job "writer-a" is the same as before the restart

  @req:several-servers-share-a-repository
  Scenario: A second server leaves the first server's running job alone
    Given the server is running
    And a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "sleeper"
    And job "sleeper" is waiting on its model
    And a second server is started on the same repository
    Then job "sleeper" has state "running"
    And the worker of job "sleeper" is alive
    When job "sleeper" is released
    Then job "sleeper" has state "succeeded"

  @req:job-records-are-never-dropped
  Scenario: A torn job record is recovered after a restart
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the server is killed
    And the record of job "writer-a" is cut to half its bytes
    And the server is started again
    Then job "writer-a" has state "interrupted"
    And the result of job "writer-a" says its record was damaged

  @req:only-a-jobs-own-processes-are-signalled
  Scenario: A recorded pid that now names another process is left alone
    Given the server is running
    And a worker script "sleeper" that waits until released
    And an unrelated process is running
    When the boss spawns a worker running script "sleeper"
    And job "sleeper" is waiting on its model
    And the server is killed
    And the record of job "sleeper" is made to name the unrelated process
    And the server is started again
    Then the unrelated process is still alive
    And job "sleeper" has state "interrupted"

  @req:a-rollback-fails-closed-on-a-job-record-it-cannot-read
  Scenario: A job record that cannot be read refuses a rollback
    Given the server is running
    And the journals hold a job record "j-torn" that is not JSON
    When the boss takes a baseline
    And the boss rolls back everything
    Then the call is a tool error mentioning "j-torn" and "cannot be read"
