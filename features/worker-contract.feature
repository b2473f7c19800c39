Feature: Worker contract
  Every worker is told the rules of the shared worktree, reports its work in a final message the server checks,
  and is started so that it can neither start sub-agents nor escape the limits the operator set.

  Background:
    Given a git repository with a committed file "a.txt"

  @req:workers-receive-the-contract
  Scenario: The worker receives the preamble before its task
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with prompt "Edit a.txt"
    And the boss waits until job "writer-a" is reported
    Then the first model request of job "writer-a" holds the worker preamble before "Edit a.txt"
    And the worker preamble says that the worker shares the worktree with other workers running at the same time
    And the worker preamble says that the worker must not start sub-agents
    And the worker preamble says that the worker must not commit, stash, reset, check out or revert changes it did not make
    And the worker preamble says that the worker must not stop because other files change
    And the worker preamble says that the worker must stay within its assigned files
    And the worker preamble says that the worker must end with the JSON final message

  @req:workers-receive-the-contract
  Scenario: The worker is asked for a structured final message
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    Then the first model request of job "writer-a" carries a JSON schema that requires the string "summary" and the string array "modifiedFiles"
    And that JSON schema allows no other keys

  @req:the-final-message-is-checked
  Scenario: A valid final message fills summary and modified files
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    And the boss reads the result of job "writer-a"
    Then the result of job "writer-a" has summary "wrote a.txt"
    And the result of job "writer-a" has modified_files ["a.txt"]
    And the result of job "writer-a" has contract_error null

  @req:the-final-message-is-checked
  Scenario: A final message that is not JSON is a contract error
    Given the server is running
    And a worker script "prose" that ends with the plain message "all done"
    When the boss spawns a worker running script "prose"
    And the boss waits until job "prose" is reported
    And the boss reads the result of job "prose"
    Then the result of job "prose" has state "succeeded"
    And the result of job "prose" has final_message "all done"
    And the result of job "prose" has contract_error containing "not valid JSON"
    And the result of job "prose" has modified_files []

  @req:the-final-message-is-checked
  Scenario: A missing final message is a contract error
    Given the server is running
    And a worker script "mute" that ends without a final message
    When the boss spawns a worker running script "mute"
    And the boss waits until job "mute" is reported
    And the boss reads the result of job "mute"
    Then the result of job "mute" has state "succeeded"
    And the result of job "mute" has contract_error containing "missing"

  @req:workers-cannot-start-sub-agents
  Scenario: A worker is offered no agent tools
    Given the user's Codex configuration registers this server
    And the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    Then the first model request of job "writer-a" offers no tool that spawns an agent
    And the first model request of job "writer-a" offers no tool of this server

  @req:workers-load-neither-this-server-nor-the-boss-skill
  Scenario: A worker of a plugin install loads neither the server nor the skill
    Given the user installed the plugin
    And the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    Then the first model request of job "writer-a" offers no tool of this server
    And the first model request of job "writer-a" lists no skill "codex-subagents"
    And no worker started this server

  @req:workers-load-neither-this-server-nor-the-boss-skill
  Scenario: A worker of a by-hand install loads neither the server nor the skill
    Given the user added this server with codex mcp add and copied the skill to their Codex home
    And the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    Then the first model request of job "writer-a" offers no tool of this server
    And the first model request of job "writer-a" lists no skill "codex-subagents"
    And no worker started this server

  @req:workers-load-neither-this-server-nor-the-boss-skill
  Scenario: A worker does not load the skill a project carries
    Given the repository holds the skill in ".agents/skills/codex-subagents" next to a skill "house-rules"
    And the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    And the boss waits until job "writer-a" is reported
    Then the first model request of job "writer-a" lists no skill "codex-subagents"
    And the first model request of job "writer-a" lists the skill "house-rules"

  @req:a-server-inside-a-worker-refuses-to-spawn
  Scenario: A server started inside a worker refuses to spawn
    Given the server is running with a worker's environment
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    Then the call is a tool error mentioning "sub-agents"
    And no worker process was started

  @req:workers-run-in-an-allowed-git-worktree
  Scenario: A cwd outside the allowed roots is refused
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with a cwd outside every allowed root
    Then the call is a tool error mentioning that cwd
    And no job was created

  @req:workers-run-in-an-allowed-git-worktree
  Scenario: A cwd outside a git worktree is refused
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with a cwd in an allowed root that is not a git worktree
    Then the call is a tool error mentioning that cwd and "git worktree"

  @req:workers-run-in-an-allowed-git-worktree
  Scenario: A spawn without cwd outside any git worktree is refused
    Given the server is running in a directory that is not a git worktree
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a"
    Then the call is a tool error mentioning that cwd and "git worktree"
    And no job was created

  @req:full-access-needs-the-operators-opt-in
  Scenario: Full access is refused without the opt-in
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with sandbox "danger-full-access"
    Then the call is a tool error mentioning "--allow-danger-full-access"
    And no job was created

  @req:full-access-needs-the-operators-opt-in
  Scenario: Full access is granted with the opt-in
    Given the server is running with full access allowed
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with sandbox "danger-full-access"
    And the boss waits until job "writer-a" is reported
    Then job "writer-a" ran with the sandbox "danger-full-access"

  @req:workers-get-an-allowlisted-environment
  Scenario: A secret in the server environment does not reach the worker
    Given the server is running with "SECRET_TOKEN" in its environment
    And a worker script "env-dumper" that runs the shell command "env"
    When the boss spawns a worker running script "env-dumper"
    And the boss waits until job "env-dumper" is reported
    Then the output of the shell command of job "env-dumper" does not mention "SECRET_TOKEN"
    And the output of the shell command of job "env-dumper" mentions "PATH"

  @req:arguments-cannot-become-options
  Scenario: A prompt that looks like a flag is passed as text
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with prompt "--dangerously-bypass-approvals-and-sandbox"
    And the boss waits until job "writer-a" is reported
    Then the first model request of job "writer-a" holds "--dangerously-bypass-approvals-and-sandbox" as task text
    And job "writer-a" ran with the sandbox "workspace-write"

  @req:arguments-cannot-become-options
  Scenario: A model that looks like a flag is refused
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with model "--dangerously-bypass-approvals-and-sandbox"
    Then the call is a tool error mentioning "--dangerously-bypass-approvals-and-sandbox"
    And no job was created

  @req:a-spawns-config-sets-only-model-keys
  Scenario: A config key outside the allowlist is refused
    Given the server is running
    And a worker script "writer-a" that writes "a.txt" and reports it
    When the boss spawns a worker running script "writer-a" with config "model_provider=elsewhere"
    Then the call is a tool error mentioning "model_provider" and "--worker-config"
    And no job was created
