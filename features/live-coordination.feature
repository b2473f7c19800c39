Feature: Live coordination
  While a batch runs, the server tells the boss at once when two workers collide on a path or a worker
  writes outside its declared scope, keeps workers with intersecting scopes from running at the same
  time, and sums what the batch cost.

  Background:
    Given a git repository with a committed file "a.txt"
    And a committed file "b.txt"
    And the server is running

  @req:collisions-are-seen-while-jobs-run
  Scenario: A collision by patch is seen before either worker finishes
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    And a worker script "patcher-b" that appends "from b" to "shared.txt" through a patch and then waits until released
    When the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And the boss spawns a worker running script "patcher-b"
    And job "patcher-b" is waiting on its model
    And the boss waits for any job with timeout_s 60
    Then wait-any returns before any job finishes
    And wait-any lists one collision on "shared.txt" by jobs "holder" then "patcher-b", seen by "file_change"
    And codex_status lists that alert and jobs "holder, patcher-b" as running

  @req:collisions-are-seen-while-jobs-run
  Scenario: A collision by a shell command is seen before either worker finishes
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    And a worker script "shell-b" that appends "from b" to "shared.txt" from the shell and then waits until released
    When the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And the boss spawns a worker running script "shell-b"
    And job "shell-b" is waiting on its model
    And the boss waits for any job with timeout_s 60
    Then wait-any returns before any job finishes
    And wait-any lists one collision on "shared.txt" by jobs "holder" then "shell-b", seen by "worktree"
    And codex_status lists that alert and jobs "holder, shell-b" as running

  @req:wait-any-returns-at-once-with-a-new-alert
  Scenario: The boss cancels one colliding job and the other finishes
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    And a worker script "patcher-b" that appends "from b" to "shared.txt" through a patch and then waits until released
    When the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And the boss spawns a worker running script "patcher-b"
    And job "patcher-b" is waiting on its model
    And the boss waits for any job with timeout_s 60
    Then wait-any lists one collision on "shared.txt" by jobs "holder" then "patcher-b", seen by "file_change"
    When the boss cancels job "patcher-b"
    And the held turn of job "holder" is released
    And the boss waits until jobs "holder, patcher-b" are reported, keeping the alerts
    Then job "holder" has state "succeeded"
    And job "patcher-b" has state "cancelled"
    And no alert was listed again

  @req:wait-any-returns-at-once-with-a-new-alert
  Scenario: A progress notification carries the collision
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    And a worker script "patcher-b" that appends "from b" to "shared.txt" through a patch and then waits until released
    When the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And the boss spawns a worker running script "patcher-b"
    And job "patcher-b" is waiting on its model
    And the boss waits for any job with a progress token and timeout_s 60
    Then the boss received a progress notification naming "shared.txt" before the result
    And wait-any lists one collision on "shared.txt" by jobs "holder" then "patcher-b", seen by "file_change"

  @req:declared-scopes-reach-the-worker
  Scenario: A declared scope is in the worker's contract
    Given a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with scope "a.txt, src/**"
    And the boss waits until job "writer-a" is reported
    Then the first model request of job "writer-a" holds the worker preamble before "Do the task"
    And the worker preamble names the scope "a.txt, src/**"

  @req:declared-scopes-reach-the-worker
  Scenario: A scope that leaves the worktree is refused
    Given a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with scope "../outside.txt"
    Then the call is a tool error mentioning "../outside.txt"
    And no job was created

  @req:intersecting-scopes-are-serialized
  Scenario: A spawn whose scope intersects a running job's waits for it
    Given a worker script "holder" that waits until released
    And a worker script "writer-b" that writes "shared.txt" and reports it
    When the boss spawns a worker running script "holder" with scope "shared.txt"
    And the boss spawns a worker running script "writer-b" with scope "*.txt"
    Then job "writer-b" has state "queued" at queue position 1
    And job "writer-b" waits for job "holder"
    And the status counts 1 running and 1 queued with cap 4
    When job "holder" is released
    And the boss waits until job "writer-b" is reported
    Then job "writer-b" has state "succeeded"
    And job "writer-b" started after job "holder" finished

  @req:intersecting-scopes-are-serialized
  Scenario: A later job without a conflict starts ahead of a waiting one
    Given a worker script "holder" that waits until released
    And a worker script "blocked" that waits until released
    And a worker script "free" that waits until released
    When the boss spawns a worker running script "holder" with scope "a.txt"
    And the boss spawns a worker running script "blocked" with scope "*.txt"
    And the boss spawns a worker running script "free" with scope "docs/**"
    Then job "blocked" has state "queued" at queue position 1
    And job "blocked" waits for job "holder"
    And job "free" has state "running"

  @req:intersecting-scopes-are-serialized
  Scenario: A job in a submodule waits for a job whose scope owns its files
    Given a submodule "lib" with a committed file "x.txt"
    And a worker script "holder" that waits until released
    And a worker script "inner" that waits until released
    When the boss spawns a worker running script "holder" with scope "lib/**"
    And from the directory "lib" the boss spawns a worker running script "inner" with scope "x.txt"
    Then job "inner" has state "queued" at queue position 1
    And job "inner" waits for job "holder"

  @req:writes-outside-the-scope-are-reported
  Scenario: A patch outside the scope is reported in the result, the overlaps and an alert
    Given a worker script "strayer" that writes "a.txt" and "b.txt" and reports them
    When the boss takes a baseline
    And the boss spawns a worker running script "strayer" with scope "a.txt"
    And the boss waits until jobs "strayer" are reported, keeping the alerts
    And the boss checks the overlaps of jobs "strayer"
    Then the result of job "strayer" has out_of_scope ["b.txt"]
    And the overlaps list "b.txt" as out of scope for job "strayer"
    And an out_of_scope alert on "b.txt" by job "strayer", seen by "file_change", was listed

  @req:writes-outside-the-scope-are-reported
  Scenario: A shell write outside the scope is reported
    Given a worker script "shell-strayer" that writes "c.txt" from the shell and reports no files
    When the boss spawns a worker running script "shell-strayer" with scope "a.txt"
    And the boss waits until jobs "shell-strayer" are reported, keeping the alerts
    Then the result of job "shell-strayer" has out_of_scope ["c.txt"]
    And an out_of_scope alert on "c.txt" by job "shell-strayer", seen by "worktree", was listed

  @req:status-totals-the-usage-of-the-jobs-it-lists
  Scenario: Status sums the usage of the listed jobs
    Given a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "writer-b" that writes "b.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss spawns a worker running script "writer-b"
    And the boss waits until jobs "writer-a, writer-b" are reported
    Then codex_status of jobs "writer-a, writer-b" sums the usage of their results
    And codex_status of jobs "writer-a" sums the usage of their results
