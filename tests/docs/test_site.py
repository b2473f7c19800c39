"""The built site as a reader's browser shows it: diagrams that render, pages that log no error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from built_site import browse, mermaid_sources

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


def test_every_mermaid_diagram_of_the_site_renders_with_the_pinned_mermaid(site: Path, browser: str) -> None:
    """Each diagram is rendered by the Mermaid the site ships, in Chromium; a syntax error fails the test."""
    del browser
    diagrams = mermaid_sources(site)
    assert len(diagrams) >= 3
    check = site / "mermaid-check.html"
    check.write_text(MERMAID_CHECK.replace("DIAGRAMS", json.dumps(diagrams).replace("</", "<\\/")))
    dom, _ = browse(check.as_uri())
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
