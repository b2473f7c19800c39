"""The built site as a reader's browser shows it: diagrams that render, pages that log no error."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from built_site import console_messages, mermaid_sources, pages, serve
from devtools import Browser

MERMAID_CHECK = """<!doctype html>
<meta charset="utf-8">
<script src="assets/javascripts/mermaid.min.js"></script>
<pre id="out">pending</pre>
<script>
const diagrams = DIAGRAMS;
(async () => {
  mermaid.initialize({startOnLoad: false});
  const errors = {};
  let number = 0;
  for (const [where, text] of Object.entries(diagrams)) {
    try { await mermaid.render("diagram" + number++, text); }
    catch (error) { errors[where] = String(error && error.message || error); }
  }
  document.getElementById("out").textContent = JSON.stringify(errors);
})();
</script>
"""


def test_every_mermaid_diagram_of_the_site_renders_with_the_pinned_mermaid(site: Path, browser: Browser) -> None:
    """Each diagram is rendered by the Mermaid the site ships, in Chromium; a syntax error fails the test."""
    diagrams = mermaid_sources(site)
    assert len(diagrams) >= 3
    check = site / "mermaid-check.html"
    check.write_text(MERMAID_CHECK.replace("DIAGRAMS", json.dumps(diagrams).replace("</", "<\\/")))
    dom = browser.visit(check.as_uri()).dom
    result = re.search(r'<pre id="out">(.*?)</pre>', dom, re.DOTALL)
    assert result is not None
    assert json.loads(result.group(1)) == {}


def test_no_flowchart_edge_label_contains_a_double_dash(site: Path) -> None:
    """An unquoted `--` inside an edge label ends the label early in Mermaid's lexer, so labels are quoted."""
    label = re.compile(r"-- [^\n>|]*--[^>]")
    assert [where for where, text in mermaid_sources(site).items() if label.search(text)] == []


def search_index(site: Path) -> dict[str, Any]:
    """The search index the built site ships."""
    return json.loads((site / "search" / "search_index.json").read_text())


def test_search_splits_words_on_underscores_so_rollback_finds_codex_rollback(site: Path) -> None:
    """The index's separator splits tool names into words, as the browser's search does with the same pattern."""
    separator = re.compile(search_index(site)["config"]["separator"])
    assert [word for word in separator.split("codex_rollback(baseline_id)") if word] == [
        "codex",
        "rollback",
        "baseline",
        "id",
    ]


def test_no_diagram_source_is_indexed_for_search(site: Path) -> None:
    """Mermaid keywords never show up as search results."""
    texts = [entry["text"] for entry in search_index(site)["docs"]]
    assert len(texts) > 50
    assert not [text for text in texts if "sequenceDiagram" in text or "flowchart LR" in text]


def test_task_lists_render_as_checkboxes(site: Path) -> None:
    """A Markdown `- [ ]` item becomes a checkbox, never a literal bracket pair."""
    checklist = (site / "orchestration" / "index.html").read_text()
    assert 'class="task-list-item"' in checklist
    assert "<li>[ ]" not in checklist


SCREEN_CHECK = """<!doctype html>
<meta charset="utf-8">
<iframe id="page" src="quick-reference/" style="width: 1280px; height: 800px; border: 0"></iframe>
<pre id="out">pending</pre>
<script>
const frame = document.getElementById("page");
frame.onload = () => setTimeout(() => {
  const page = frame.contentDocument;
  const table = page.querySelector(".quick-reference table");
  const names = [...page.querySelectorAll(".quick-reference td:first-child > code")];
  document.getElementById("out").textContent = JSON.stringify({
    bottom: table.getBoundingClientRect().bottom,
    tools: names.length,
    broken: names.filter((name) => name.getClientRects().length > 1).map((name) => name.textContent),
  });
}, 1000);
</script>
"""

SHOWN = ("", "orchestration/", "quick-reference/")


def test_the_quick_reference_shows_every_tool_on_one_1280x800_screen_without_breaking_a_name(
    site: Path, browser: Browser
) -> None:
    """At 1280x800 the whole tools table is above the fold, and no tool name wraps onto a second line."""
    (site / "screen-check.html").write_text(SCREEN_CHECK)
    with serve(site) as url:
        dom = browser.visit(f"{url}/screen-check.html", width=1400, height=1000).dom
    result = re.search(r'<pre id="out">(.*?)</pre>', dom, re.DOTALL)
    assert result is not None
    measured = json.loads(result.group(1))
    assert measured["tools"] >= 12
    assert measured["broken"] == []
    assert measured["bottom"] <= 800


def test_no_page_writes_to_the_browser_console(site: Path, browser: Browser, tmp_path: Path) -> None:
    """Every page, served over HTTP, runs its scripts (search, Mermaid) without an error or warning.

    Screenshots of the home, orchestration and quick reference pages are kept, in
    ``$DOCS_SCREENSHOTS`` when set (for CI to keep as artifacts), else in a temporary folder.
    """
    shots = Path(os.environ.get("DOCS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    addresses = [page.parent.relative_to(site).as_posix() + "/" if page.parent != site else "" for page in pages(site)]
    log_before = browser.log.stat().st_size
    with serve(site) as url:
        read = browser.visit_all([f"{url}/{where}" for where in addresses])
        logs = {where: read[f"{url}/{where}"].console for where in addresses}
        for where in SHOWN:
            browser.visit(f"{url}/{where}", screenshot=shots / f"{where.strip('/') or 'home'}.png")
    assert len(logs) >= 20
    assert {where: log for where, log in logs.items() if log} == {}
    with browser.log.open("rb") as log:
        log.seek(log_before)
        assert console_messages(log.read().decode(errors="replace")) == []
    assert all((shots / f"{where.strip('/') or 'home'}.png").stat().st_size > 10_000 for where in SHOWN)
