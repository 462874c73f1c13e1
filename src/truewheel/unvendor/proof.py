"""The proof every unvendor output passes before any is published: it loads.

The written wheel is read back by the inspect engine; each DT_NEEDED must resolve
inside it, be a system library its policy allows, or be a library wheel's SONAME
(``shared``), which the preload loads first (repair/verify.py judges it).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from truewheel.analysis.inspector import Inspector
from truewheel.repair.verify import describe_unresolved, unresolved
from truewheel.unvendor.model import UnvendorError
from truewheel.wheel import WheelArchive

__all__ = ["prove_loads"]


def prove_loads(inspector: Inspector, staged: Path, shared: list[str], source: str) -> None:
    """Refuse an output in which some DT_NEEDED would not resolve (repair.verify)."""
    with WheelArchive(staged, inspector.limits) as wheel:
        facts = inspector.loader_facts(wheel)
    if facts.platform is None:
        return
    libc = facts.platform.libc.libc
    policies = inspector.musl if libc == inspector.musl.libc else inspector.glibc
    policy = facts.platform.computed.policy or policies.policies[-1]
    problems = unresolved(facts, policy, left_out=shared)
    if problems:
        raise UnvendorError(
            f"{posixpath.basename(str(staged))} would not load: "
            + describe_unresolved(problems, policy.tag(facts.platform.computed.architecture)),
            path=source,
        )
