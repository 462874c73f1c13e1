"""Policy data and its use: manylinux/musllinux tags and the third-party library table."""

from truewheel.policy.libraries import Family, LibraryName, LibraryTable, VersionEvidence
from truewheel.policy.manylinux import Policy, PolicySet, Requirement, TagResult

__all__ = [
    "Family",
    "LibraryName",
    "LibraryTable",
    "Policy",
    "PolicySet",
    "Requirement",
    "TagResult",
    "VersionEvidence",
]
