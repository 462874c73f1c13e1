"""Load the JSON tables shipped in ``truewheel/policy/data``."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from truewheel.errors import PolicyError


@cache
def load_table(name: str) -> dict[str, Any]:
    """Parse a bundled data file once per process (the files never change at run time)."""
    resource = files("truewheel.policy").joinpath("data").joinpath(name)
    try:
        table = json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyError(f"bundled data file is unreadable ({exc})", path=name) from exc
    if not isinstance(table, dict) or table.get("format") != 1:
        raise PolicyError("bundled data file has an unknown format", path=name)
    return table
