"""The benchmarks of codex-subagents: ``python -m bench`` prints ratios measured side by side in one run.

Concurrency is why the server exists, so each figure compares the server with
the best the machine can do in the same run, never with an absolute time:
P1 parallel speedup, P2 spawn overhead, P3 wake latency, P4 ingest, P5 scale,
P6 codex_status under load and P7 baselines against git's own floor.
Workers are the real Codex CLI answering a scripted model, except in P4, which
replays a stream recorded from them; P6 and P7 share one large git tree.
``docs/performance.md`` explains each figure.
"""
