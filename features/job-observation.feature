Feature: Job observation
  A person sees every job of the repository live, reads one job's events as lines, and draws a batch
  after the fact; alerts are kept with the jobs they name, so they outlive the server.

  Background:
    Given a git repository with a committed file "a.txt"
    And the server is running

  @req:the-watch-shows-every-job-of-the-repository
  Scenario: The watch lists a running job and a finished one
    Given a worker script "writer-a" that writes "a.txt" and reports it
    And a worker script "holder" that writes "shared.txt" and then waits until released
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And a person runs the watch with "--json"
    Then the watch's line for "holder" has state "running" and files "shared.txt"
    And the watch's line for "writer-a" has state "succeeded" and files "a.txt"
    And the watch's line for "writer-a" counts the tokens of its result

  @req:the-watch-shows-every-job-of-the-repository
  Scenario: Without a terminal the watch prints one table
    Given a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And a person runs the watch with its output to a pipe
    Then the watch exits 0 with a header counting 0 running, 0 queued and 1 finished
    And the watch's table has a row for "writer-a"

  @req:the-watch-reads-and-never-writes
  Scenario: Watching changes nothing in the state dir
    Given a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And a person runs the watch with "--once"
    Then every file of the state dir has the bytes and modification time it had before the watch

  @req:the-watch-reads-and-never-writes
  Scenario: A state dir that does not exist yet is named
    When a person runs the watch with "--once" on a state dir no server has used
    Then the watch exits 0 saying that no state dir exists yet, with its path

  @req:the-watch-reads-and-never-writes
  Scenario: A damaged job record is shown as damaged
    Given a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the record of job "writer-a" is cut to half its bytes
    And a person runs the watch with "--json"
    Then the watch's line for "writer-a" has state "damaged" and says its record cannot be read

  @req:alerts-outlive-the-server
  Scenario: A collision is recorded for both jobs
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    And a worker script "patcher-b" that appends "from b" to "shared.txt" through a patch and then waits until released
    When the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And the boss spawns a worker running script "patcher-b"
    And job "patcher-b" is waiting on its model
    And the boss waits for any job with timeout_s 60
    And a person runs the watch with "--json"
    Then the watch's lines for "holder" and "patcher-b" each list the collision on "shared.txt"

  @req:alerts-outlive-the-server
  Scenario: A collision is listed again after a restart
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    And a worker script "patcher-b" that appends "from b" to "shared.txt" through a patch and then waits until released
    When the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And the boss spawns a worker running script "patcher-b"
    And job "patcher-b" is waiting on its model
    And the boss waits for any job with timeout_s 60
    And the server restarts
    Then codex_status lists the collision on "shared.txt" by jobs "holder" then "patcher-b"

  @req:a-jobs-log-reads-as-lines
  Scenario: The log shows a worker's patch and message
    Given a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And a person runs the log of job "writer-a"
    Then each line of the log starts with a time
    And the log says that "a.txt" was patched and what "writer-a" said last

  @req:a-jobs-log-reads-as-lines
  Scenario: Following a log ends when the job finishes
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    When the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And a person follows the log of job "holder"
    And job "holder" is released
    Then the followed log ends with exit code 0 after a line saying the turn completed

  @req:a-jobs-log-reads-as-lines
  Scenario: An unknown job id is refused with the ids it may mean
    Given a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And a person runs the log of job "writer-a" with its id's last character changed
    Then the log exits 2 naming the job id of "writer-a" as the one it may mean
    And the log printed nothing on its standard output

  @req:the-report-draws-a-batch
  Scenario: The report of a batch draws a lane per job and the collision
    Given a worker script "holder" that writes "shared.txt" and then waits until released
    And a worker script "patcher-b" that appends "from b" to "shared.txt" through a patch and then waits until released
    When the boss takes a baseline
    And the boss spawns a worker running script "holder"
    And job "holder" has written "shared.txt"
    And the boss spawns a worker running script "patcher-b"
    And job "patcher-b" is waiting on its model
    And the boss waits for any job with timeout_s 60
    And job "holder" is released
    And job "patcher-b" is released
    And a person writes the report of the batch
    Then the report has one lane for "holder" and one for "patcher-b"
    And the report marks a collision on "shared.txt" between "holder" and "patcher-b"
    And the report names no address outside itself

  @req:the-report-draws-a-batch
  Scenario: An unknown baseline is refused
    When a person writes the report of the baseline "b-unknown"
    Then the report command exits 2 naming "b-unknown"
    And no report file was written
