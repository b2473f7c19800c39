Feature: Installation
  A user installs the boss skill and the server in one step with the Codex plugin, a boss finds the server's
  tools through tool_search, and codex-subagents doctor names what would break a first run and how to fix it.
  Every scenario starts from a fresh home and uses the Codex CLI under test (the pinned one by default).

  @req:one-plugin-install-gives-the-skill-and-a-server-set-up-for-codex-exec
  Scenario: The plugin installs the skill and the server with their settings
    Given a fresh home
    When the user installs the plugin from this repository
    Then Codex lists the server "codex-subagents" run as "uvx codex-subagents serve" with a tool timeout of 300 s and a startup timeout of 120 s
    And the installed server entry is required and approves every tool
    And the installed skill is the repository's skill

  @req:a-boss-finds-the-tools-through-tool-search
  Scenario: A boss installed by the plugin finds its tools with tool_search
    Given a fresh home
    When a codex exec boss set up by the plugin searches its tools for "codex-subagents baseline rollback" and calls codex_baseline
    Then the search returned the namespace "mcp__codex_subagents" with "codex_spawn, codex_rollback"
    And the codex_baseline call returned a baseline id

  @req:doctor-names-what-breaks-a-first-run-and-how-to-fix-it
  Scenario: Doctor passes on a plugin install
    Given a fresh home
    And the plugin is installed with uv on PATH
    When the user runs codex-subagents doctor
    Then doctor exits with 0 and no check failed

  @req:doctor-names-what-breaks-a-first-run-and-how-to-fix-it
  Scenario: Doctor names a short tool timeout
    Given a fresh home
    And the server was added with codex mcp add and its table says "tool_timeout_sec = 60"
    When the user runs codex-subagents doctor
    Then doctor exits with 1 and only the "tool timeout" check failed
    And the fix of "tool timeout" says "add tool_timeout_sec = 300"

  @req:doctor-names-what-breaks-a-first-run-and-how-to-fix-it
  Scenario: Doctor names a stale copy of the skill
    Given a fresh home
    And the plugin is installed with uv on PATH
    And an older copy of the skill is in "~/.agents/skills/codex-subagents"
    When the user runs codex-subagents doctor
    Then doctor exits with 1 and only the "skill" check failed
    And the detail of "skill" names "~/.agents/skills/codex-subagents"

  @req:workers-run-the-codex-the-user-runs
  Scenario: Doctor checks the user's Codex, not one the repository ships
    Given a fresh home
    And the repository holds an executable "node_modules/.bin/codex"
    When the user runs codex-subagents doctor
    Then the detail of "codex" names the release of the Codex CLI under test
    And the detail of "codex" does not name the repository's "node_modules/.bin/codex"

  @req:serve-flags-are-bounded
  Scenario: A zero max wait stops the server before it serves
    Given a fresh home
    When the user starts codex-subagents serve with "--max-wait 0"
    Then it exits with code 2 and says "--max-wait must be more than 0"

  @req:doctor-fails-closed-on-a-broken-plugin
  Scenario: Doctor calls a plugin whose manifest is not JSON broken
    Given a fresh home
    And an enabled plugin "broken@elsewhere" whose manifest is not JSON
    When the user runs codex-subagents doctor
    Then the detail of "server" says "broken"
    And the detail of "server" says "plugin.json"

  @req:doctor-grades-the-codex-cli-against-the-tested-range
  Scenario: Doctor passes a Codex CLI inside the tested range
    Given a fresh home
    And the server was added with codex mcp add and the documented settings
    And the workers run a tested Codex CLI release
    When the user runs codex-subagents doctor
    Then doctor exits with 0 and the "codex" check is "ok"
    And the detail of "codex" names the tested range

  @req:doctor-grades-the-codex-cli-against-the-tested-range
  Scenario: Doctor warns about a Codex CLI newer than the newest tested
    Given a fresh home
    And the server was added with codex mcp add and the documented settings
    And the workers run a Codex CLI one minor release newer than the newest tested
    When the user runs codex-subagents doctor
    Then doctor exits with 0 and the "codex" check is "warn"
    And the detail of "codex" names the tested range
    And the fix of "codex" says where to report a problem and not "downgrade"

  @req:doctor-grades-the-codex-cli-against-the-tested-range
  Scenario: Doctor fails a Codex CLI older than the oldest tested
    Given a fresh home
    And the server was added with codex mcp add and the documented settings
    And the workers run a Codex CLI one minor release older than the oldest tested
    When the user runs codex-subagents doctor
    Then doctor exits with 1 and only the "codex" check failed
    And the fix of "codex" is the command that installs the newest tested Codex CLI
