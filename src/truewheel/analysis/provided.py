"""Libraries that a wheel's requirements provide, so the user's system need not.

The robust way to share a native library between wheels: the provider distribution ships it,
the consumer keeps its DT_NEEDED entry and imports the provider first, and the loader finds the
library already loaded under its SONAME.  Such a need is not one "the user's system must
provide".  Two sources say a requirement provides a library, and only a requirement the wheel
declares (an unconditional ``Requires-Dist``) counts:

* the wheel's SBOM, where ``truewheel repair --provided-by`` records each library and the
  requirement it added for it;
* the library table, which names the distributions that ship a family as their own product
  (torch ships libc10 and libtorch*, pyarrow libarrow): torchvision needs them and requires torch.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from truewheel.analysis.report import ImageFile, NativeFile
from truewheel.analysis.resolve import EXTERNAL
from truewheel.analysis.split import runtime_requirements
from truewheel.policy.libraries import LibraryTable

__all__ = ["provided_libraries"]


def provided_libraries(
    requires_dist: Iterable[str],
    native: Sequence[NativeFile | ImageFile],
    libraries: LibraryTable,
    declared: Mapping[str, str],
) -> dict[str, str]:
    """Library name -> the required distribution that provides it, for the external needs."""
    required = set(runtime_requirements(requires_dist))
    if not required:
        return {}
    out: dict[str, str] = {}
    for library, requirement in declared.items():
        name = _name(requirement)
        if name in required:
            out[library] = name
    for f in native:
        for dep in f.dependencies:
            if dep.status != EXTERNAL or dep.name in out:
                continue
            family = libraries.family_for(posixpath.basename(dep.name))
            if family is None:
                continue
            provider = next(
                (
                    r
                    for r in sorted(required)
                    if any(fnmatchcase(r, p) for p in family.first_party_dists)
                ),
                None,
            )
            if provider is not None:
                out[dep.name] = provider
    return out


def _name(requirement: str) -> str | None:
    try:
        return canonicalize_name(Requirement(requirement).name)
    except InvalidRequirement:
        return None
