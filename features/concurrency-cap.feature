Feature: Concurrency cap
  The server bounds how many workers run at once, queues the others in order,
  pushes back when its queue is full and stops workers that exceed their time budgets.

  Background:
    Given a git repository with a committed file "a.txt"
    And a worker script "sleeper" that waits until released

  @req:at-most-the-cap-runs-at-once
  Scenario: A spawn beyond the cap is queued
    Given the server is running with cap 2
    When the boss spawns a worker running script "sleeper" with label "s1"
    And the boss spawns a worker running script "sleeper" with label "s2"
    And the boss spawns a worker running script "sleeper" with label "s3"
    Then job "s1" has state "running"
    And job "s2" has state "running"
    And job "s3" has state "queued" at queue position 1
    And job "s3" waits for no job
    And the status counts 2 running and 1 queued with cap 2

  @req:at-most-the-cap-runs-at-once
  Scenario: The default cap is four
    Given the server is running
    When the boss spawns 5 workers running script "sleeper"
    Then 4 jobs have state "running"
    And 1 job has state "queued"

  @req:queued-jobs-start-in-spawn-order
  Scenario: Queued jobs start in spawn order
    Given the server is running with cap 1
    When the boss spawns a worker running script "sleeper" with label "s1"
    And the boss spawns a worker running script "sleeper" with label "s2"
    And the boss spawns a worker running script "sleeper" with label "s3"
    And job "s1" is released
    Then job "s2" has state "running"
    And job "s3" has state "queued" at queue position 1

  @req:a-full-queue-pushes-back
  Scenario: A spawn beyond the queue limit is refused
    Given the server is running with cap 1 and queue limit 1
    When the boss spawns a worker running script "sleeper" with label "s1"
    And the boss spawns a worker running script "sleeper" with label "s2"
    And the boss spawns a worker running script "sleeper" with label "s3"
    Then the call is a tool error mentioning "cap", "queue limit" and "codex_wait_any"
    And the status lists 2 jobs

  @req:cancelling-a-queued-job-removes-it
  Scenario: Cancelling a queued job removes it from the queue
    Given the server is running with cap 1
    When the boss spawns a worker running script "sleeper" with label "s1"
    And the boss spawns a worker running script "sleeper" with label "s2"
    And the boss spawns a worker running script "sleeper" with label "s3"
    And the boss cancels job "s2"
    Then job "s2" has state "cancelled"
    And job "s2" has no events
    And job "s3" has state "queued" at queue position 1

  @req:a-wall-clock-budget-limits-each-worker
  Scenario: A worker over its wall-clock budget is timed out
    Given the server is running
    And a worker script "ticker" that keeps running commands until released
    When the boss spawns a worker running script "ticker" with wall_timeout_s 2
    And the boss waits until job "ticker" is reported
    Then job "ticker" has state "timed_out"
    And the result of job "ticker" has error containing "wall"
    And no process of the process group of job "ticker" is alive

  @req:an-idle-budget-limits-silent-workers
  Scenario: A silent worker is timed out
    Given the server is running
    When the boss spawns a worker running script "sleeper" with idle_timeout_s 1
    And the boss waits until job "sleeper" is reported
    Then job "sleeper" has state "timed_out"
    And the result of job "sleeper" has error containing "idle"
