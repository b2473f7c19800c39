"""What codex needs to reach a scripted model: the provider table, the ``-c`` overrides and a ``CODEX_HOME``."""

from __future__ import annotations

import json
from pathlib import Path


def provider_table(base_url: str, provider_name: str = "scripted", stream_idle_timeout_ms: int = 30_000) -> str:
    """Return the provider definition as an inline TOML table, with codex's retries turned off."""
    return (
        f'{{name="{provider_name}", base_url="{base_url}", wire_api="responses", '
        f"request_max_retries=0, stream_max_retries=0, stream_idle_timeout_ms={stream_idle_timeout_ms}}}"
    )


def codex_overrides(base_url: str, provider_name: str = "scripted", stream_idle_timeout_ms: int = 30_000) -> list[str]:
    """Return the ``-c`` values that point codex at the model at ``base_url`` (pass each after a ``-c``)."""
    table = provider_table(base_url, provider_name, stream_idle_timeout_ms)
    return [f"model_provider={provider_name}", f"model_providers.{provider_name}={table}"]


def prepare_codex_home(base_url: str, home: Path, extra_config: str = "", provider_name: str = "scripted") -> Path:
    """Create a ``CODEX_HOME`` whose ``config.toml`` selects the model at ``base_url``, plus ``extra_config`` TOML.

    Codex refuses a ``CODEX_HOME`` that does not exist but needs nothing else in it (no login for a
    provider without ``env_key``). The config file matters when codex must read one, e.g. a boss that
    also needs ``[mcp_servers...]``; a worker run with ``--ignore-user-config`` and the overrides
    only needs the directory.
    """
    home.mkdir(parents=True, exist_ok=True)
    config = f"model_provider = {json.dumps(provider_name)}\n\n[model_providers]\n"
    config += f"{json.dumps(provider_name)} = {provider_table(base_url, provider_name)}\n\n{extra_config}"
    (home / "config.toml").write_text(config, encoding="utf-8")
    return home
