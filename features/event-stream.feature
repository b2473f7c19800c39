Feature: Event stream
  Every job has an ordered, numbered stream of normalized events that the boss reads with a cursor,
  even when Codex prints lines the server cannot understand.

  Background:
    Given a git repository with a committed file "a.txt"
    And the server is running

  @req:events-are-read-with-a-cursor
  Scenario: Reading events page by page
    Given a worker script "five-commands" that runs 5 shell commands
    When the boss spawns a worker running script "five-commands"
    And the boss waits until job "five-commands" is reported
    And the boss reads the events of job "five-commands" with limit 2 from cursor 0 until the end
    Then the pages hold every event of job "five-commands" exactly once and in order
    And the last page has finished true

  @req:events-are-read-with-a-cursor
  Scenario: Reading at the end returns no events
    Given a worker script "five-commands" that runs 5 shell commands
    When the boss spawns a worker running script "five-commands"
    And the boss waits until job "five-commands" is reported
    And the boss reads the events of job "five-commands" with limit 2 from cursor 0 until the end
    And the boss reads the events of job "five-commands" from the last next_cursor
    Then the page has no events
    And the page's next_cursor is the cursor the boss passed

  @req:events-are-read-with-a-cursor
  Scenario: Events of a running job are readable at once
    Given a worker script "half-writer" that writes "a.txt" and then waits until released
    When the boss spawns a worker running script "half-writer"
    And job "half-writer" has written "a.txt"
    And the boss reads the events of job "half-writer" from cursor 0
    Then the page holds a "file_change" event for "a.txt"
    And the page has finished false and state "running"

  @req:events-carry-consecutive-sequence-numbers
  Scenario: Sequence numbers have no gaps
    Given a worker "garbler" whose output carries a malformed line between valid events
    When the boss spawns a worker running script "garbler"
    And the boss waits until job "garbler" is reported
    And the boss reads the events of job "garbler" with limit 2 from cursor 0 until the end
    Then the events of job "garbler" are numbered from 0 without a gap or a repeat

  @req:codex-lines-are-normalized
  Scenario: A shell command becomes started and completed events
    Given a worker script "echo-hi" that runs the shell command "echo hi"
    When the boss spawns a worker running script "echo-hi"
    And the boss waits until job "echo-hi" is reported
    And the boss reads the events of job "echo-hi" from cursor 0
    Then the page holds a "command_execution" event in phase "started" and one in phase "completed" with the same item id
    And the completed "command_execution" event has exit code 0 and output "hi"

  @req:codex-lines-are-normalized
  Scenario: A completed turn reports token usage
    Given a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss reads the events of job "writer-a" from cursor 0
    Then the completed turn event has the input, cached input, output and reasoning token counts the model reported

  @req:codex-lines-are-normalized
  Scenario: A web search keeps its item id
    Given a worker script "searcher" that searches the web for "codex exec json"
    When the boss spawns a worker running script "searcher"
    And the boss waits until job "searcher" is reported
    And the boss reads the events of job "searcher" from cursor 0
    Then the "web_search" events in phase "started" and "completed" both have the item id Codex gave the search
    And both "web_search" events keep the search id the model sent

  @req:unreadable-lines-become-unparsed-events
  Scenario Outline: A line that cannot be parsed becomes an unparsed event
    Given a worker "garbler" whose output carries a <kind> line between valid events
    When the boss spawns a worker running script "garbler"
    And the boss waits until job "garbler" is reported
    And the boss reads the events of job "garbler" with limit 2 from cursor 0 until the end
    Then the events of job "garbler" hold one "unparsed" event whose reason mentions "<reason>"

    Examples:
      | kind         | reason       |
      | malformed    | JSON         |
      | oversize     | size         |
      | binary       | UTF-8        |
      | unknown-type | unknown type |

  @req:unreadable-lines-become-unparsed-events
  Scenario: Reading continues after an unparsed line
    Given a worker "garbler" whose output carries a malformed line between valid events
    When the boss spawns a worker running script "garbler"
    And the boss waits until job "garbler" is reported
    And the boss reads the events of job "garbler" with limit 2 from cursor 0 until the end
    Then the events of job "garbler" hold the valid events printed after the malformed line
    And job "garbler" has state "succeeded"

  @req:paging-cost-does-not-grow-with-the-stream
  Scenario: The last page of a long stream is read directly
    Given a finished job "long" with at least 100000 events
    When the boss reads the events of job "long" with limit 10 from the next_cursor after event 99989
    Then the page holds the events numbered 99990 to 99999
    And the server read no event of job "long" before the cursor

  @req:wait-any-reports-progress-to-clients-that-ask
  Scenario: Wait-any sends progress notifications while waiting
    Given a worker script "sleeper" that waits until released
    When the boss spawns a worker running script "sleeper"
    And a client waits for any job with a progress token and timeout_s 3
    Then the client received at least one progress notification for that token before the result
