Feature: Repository safety
  A baseline protects the user's work as it is in a real repository: the bytes and modes on disk whatever git's
  configuration says, the user's ignored files, HEAD, the index and the stash, the git directory's configuration,
  hooks and info files, the files of submodules and nested repositories, and every name git handles. What it cannot protect it names, and nothing a worker made is destroyed.

  Background:
    Given a git repository with a committed file "a.txt"
    And a committed file "b.txt"

  @req:baselines-hold-the-bytes-and-modes-on-disk
  Scenario: Line endings and filtered files come back byte for byte
    Given git's "core.autocrlf" is "true"
    And a committed file "dos.txt" with CRLF line endings
    And the user has an untracked file "mixed.txt" with mixed line endings
    And ".gitattributes" runs "notebook.ipynb" through a clean filter that drops its "output" lines
    And the server is running
    And a worker script "normalizer" that rewrites "dos.txt", "mixed.txt" and "notebook.ipynb" with LF line endings and no "output" line
    When the boss takes a baseline
    And the boss spawns a worker running script "normalizer"
    And the boss waits until job "normalizer" is reported
    And the boss checks the overlaps of jobs "normalizer"
    And the boss rolls back everything
    Then the overlaps list "dos.txt, mixed.txt, notebook.ipynb" as "modified"
    And the file "dos.txt" holds its baseline bytes
    And the file "mixed.txt" holds its baseline bytes
    And the file "notebook.ipynb" holds its baseline bytes

  @req:baselines-hold-the-bytes-and-modes-on-disk
  Scenario: A private key keeps its mode and a mode change alone is seen
    Given the user has an untracked file "id_key" with the mode 0600
    And the server is running
    And a worker script "chmodder" that runs the shell command "chmod 644 id_key"
    When the boss takes a baseline
    And the boss spawns a worker running script "chmodder"
    And the boss waits until job "chmodder" is reported
    And the boss checks the overlaps of jobs "chmodder"
    And the boss rolls back everything
    Then the overlaps list "id_key" as "mode_changed"
    And the file "id_key" has the mode 0600
    And the file "id_key" holds its baseline bytes

  @req:ignored-files-are-protected-up-to-a-limit
  Scenario: A worker's edit of an ignored .env is reported and undone
    Given ".gitignore" ignores ".env"
    And the user has an ignored file ".env"
    And the server is running
    And a worker script "env-editor" that writes ".env" from the shell and reports no files
    When the boss takes a baseline
    And the boss spawns a worker running script "env-editor"
    And the boss waits until job "env-editor" is reported
    And the boss checks the overlaps of jobs "env-editor"
    And the boss rolls back everything
    Then the overlaps list ".env" as "modified"
    And unclaimed holds ".env"
    And the file ".env" holds the user's content

  @req:what-is-ignored-is-decided-by-the-baseline
  Scenario: Unignoring a directory does not make rollback delete it
    Given ".gitignore" ignores "build/" and ".env"
    And the user has an ignored file "build/out.bin"
    And the user has an ignored file ".env"
    And the server is running
    And a worker script "unignorer" that runs the shell command ": > .gitignore"
    When the boss takes a baseline
    And the boss spawns a worker running script "unignorer"
    And the boss waits until job "unignorer" is reported
    And the boss rolls back everything
    Then the file ".gitignore" holds its baseline bytes
    And the file "build/out.bin" holds the user's content
    And the file ".env" holds the user's content

  @req:a-baseline-names-what-it-does-not-protect
  Scenario: A baseline lists the ignored directories and large files it does not protect
    Given ".gitignore" ignores "build/", "*.log" and ".env"
    And the user has an ignored file "build/out.bin"
    And the user has an ignored file ".env"
    And the user has an ignored file "trace.log" of 9 MiB
    And the server is running
    When the boss takes a baseline
    Then the baseline lists "build" as unprotected because "ignored_directory"
    And the baseline lists "trace.log" as unprotected because "too_large"
    And the baseline counts 2 unprotected paths
    And the baseline lists ".env" among the ignored files it protects
    And the baseline commit does not hold "build/out.bin"
    And the baseline commit does not hold "trace.log"

  @req:git-state-a-worker-moves-is-reported
  Scenario: A worker's commit, stash and reset are reported
    Given the user has staged a new file "staged.txt"
    And the server is running with full access allowed
    And a worker script "git-breaker" that runs git reset --hard, commits a new file "c.txt" and stashes a new file "d.txt"
    When the boss takes a baseline
    And the boss spawns a worker running script "git-breaker" with sandbox "danger-full-access"
    And the boss waits until job "git-breaker" is reported
    And the boss checks the overlaps of jobs "git-breaker"
    Then the overlaps name "head, index, stash" under git_state
    And clean holds no job

  @req:rollback-puts-git-state-back-and-keeps-what-a-worker-made
  Scenario: A worker's commit, stash and reset are moved back and kept
    Given the user has a stash entry
    And the user has edited "a.txt" without committing
    And the user has staged a new file "staged.txt"
    And the user has an untracked file "notes.txt"
    And the server is running with full access allowed
    And a worker script "git-breaker" that runs git reset --hard, commits a new file "c.txt" and stashes a new file "d.txt"
    When the boss takes a baseline
    And the boss spawns a worker running script "git-breaker" with sandbox "danger-full-access"
    And the boss waits until job "git-breaker" is reported
    And the boss rolls back everything
    Then the file "a.txt" holds the user's content
    And the file "notes.txt" holds the user's content
    And HEAD is unchanged and the index still stages "staged.txt"
    And the stash list holds only the user's entry
    And the rollback names "head, index, stash" under git_restored
    And the rollback keeps the worker's commit of "c.txt" and its stash entry of "d.txt" under kept_refs

  @req:the-git-directorys-files-that-decide-what-git-runs-are-protected
  Scenario: A hook and an alias a worker adds with full access are reported and undone
    Given the user has the hook "pre-commit" with the mode 0700
    And the server is running with full access allowed
    And a worker script "hook-planter" that overwrites the hook "pre-commit", adds the hook "post-checkout" and sets the alias "st"
    When the boss takes a baseline
    And the boss spawns a worker running script "hook-planter" with sandbox "danger-full-access"
    And the boss waits until job "hook-planter" is reported
    And the boss checks the overlaps of jobs "hook-planter"
    And the boss rolls back everything
    Then the overlaps name the files "config, hooks/post-checkout, hooks/pre-commit" of the git directory under git_state
    And clean holds no job
    And the hook "pre-commit" holds the user's bytes with the mode 0700
    And there is no hook "post-checkout"
    And git has no alias "st"

  @req:the-default-sandbox-keeps-workers-out-of-the-git-directory
  Scenario: A worker in the default sandbox cannot add a hook
    Given the user has the hook "pre-commit" with the mode 0700
    And the server is running
    And a worker script "hook-planter" that overwrites the hook "pre-commit", adds the hook "post-checkout" and sets the alias "st"
    When the boss takes a baseline
    And the boss spawns a worker running script "hook-planter"
    And the boss waits until job "hook-planter" is reported
    And the boss checks the overlaps of jobs "hook-planter"
    Then the shell command of job "hook-planter" exited with a code other than 0
    And the overlaps name nothing under git_state
    And clean holds jobs "hook-planter"
    And the hook "pre-commit" holds the user's bytes with the mode 0700
    And there is no hook "post-checkout"

  @req:the-server-runs-no-program-a-repository-names
  Scenario: A filter a worker points a file at is not run by the server
    Given the user's configuration defines the required filter "marker", whose clean command leaves a mark
    And the server is running
    And a worker script "filter-pointer" that points "a.txt" at the filter "marker" and rewrites it with as many bytes
    When the boss takes a baseline
    And the boss spawns a worker running script "filter-pointer"
    And the boss waits until job "filter-pointer" is reported
    And the boss checks the overlaps of jobs "filter-pointer"
    And the boss rolls back everything
    Then the overlaps list "a.txt" as "modified"
    And the overlaps list ".gitattributes" as "added"
    And the filter's clean command has not run
    And the file "a.txt" holds its baseline bytes
    And the file ".gitattributes" does not exist

  @req:submodules-and-nested-repositories-are-protected
  Scenario: An edit inside a submodule is seen and undone
    Given a submodule "lib" with a committed file "lib.txt"
    And the user has edited "lib/lib.txt" without committing
    And the server is running
    And a worker script "sub-writer" that appends "from the worker" to "lib/lib.txt" and reports it
    When the boss takes a baseline
    And the boss spawns a worker running script "sub-writer"
    And the boss waits until job "sub-writer" is reported
    And the boss checks the overlaps of jobs "sub-writer"
    And the boss rolls back everything
    Then the overlaps list "lib/lib.txt" as "modified"
    And overlaps, unclaimed and unchanged_claims are empty
    And the file "lib/lib.txt" holds the user's content

  @req:submodules-and-nested-repositories-are-protected
  Scenario: A nested repository without commits is protected
    Given a repository "tools" made by git init without a commit, holding "run.txt"
    And the server is running
    When the boss takes a baseline
    And the file "tools/run.txt" is edited
    And the boss rolls back everything
    Then the file "tools/run.txt" holds its baseline bytes

  @req:every-name-git-handles-round-trips
  Scenario: A name that is not UTF-8 is shown quoted and rolled back by that name
    Given a committed file named "caf\351.txt" in git's quoted form
    And the server is running
    And a worker script "latin1-writer" that overwrites the file named "caf\351.txt" from the shell
    When the boss takes a baseline
    And the boss spawns a worker running script "latin1-writer"
    And the boss waits until job "latin1-writer" is reported
    And the boss checks the overlaps of jobs "latin1-writer"
    And the boss rolls back the file named "caf\351.txt" in git's quoted form
    Then unclaimed holds the file named "caf\351.txt" in git's quoted form
    And the rollback restored the file named "caf\351.txt" in git's quoted form
    And the file named "caf\351.txt" holds its baseline bytes

  @req:baselines-belong-to-their-worktree
  Scenario: A baseline of one linked worktree is not usable in another
    Given a linked worktree "linked" of the repository
    And the server is running with the linked worktree "linked" allowed too
    When the boss takes a baseline
    And the boss lists the baselines with the cwd "linked"
    And the boss rolls back everything with the cwd "linked"
    Then no baseline is listed
    And the call is a tool error mentioning the baseline id and "codex_baselines"

  @req:a-quoted-path-that-names-no-byte-is-refused
  Scenario: A quoted path whose escape names no byte is refused
    Given the server is running
    When the boss takes a baseline
    And the boss rolls back the file named "\777" in git's quoted form
    Then the call is a tool error mentioning "\777" and "names no byte"
