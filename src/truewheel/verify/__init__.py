"""``truewheel verify``: does this wheel come from this sdist?

:func:`verify_wheel` reads the wheel once (every member hashed; native files searched
for what names their sources), then the sdist once (every file hashed, PKG-INFO read,
small differing candidates kept for a diff), and compares: metadata (:mod:`.metadata`)
and every member (:mod:`.content`); not when PKG-INFO names another project, where only
that is said.  Nothing is extracted and nothing is built; the
result is a :class:`~truewheel.verify.model.VerifyReport`.
"""

from __future__ import annotations

import os

from packaging.utils import canonicalize_name

from truewheel.verify.content import classify
from truewheel.verify.metadata import compare_metadata, identity_findings, tag_findings
from truewheel.verify.model import (
    CATEGORIES,
    FieldComparison,
    Finding,
    MemberResult,
    VerifyReport,
)
from truewheel.verify.recordcheck import record_findings
from truewheel.verify.sdistfiles import read_sdist
from truewheel.verify.wheelfiles import read_wheel
from truewheel.wheel import WheelArchive
from truewheel.wheel.metadata import CoreMetadata, Headers

__all__ = [
    "CATEGORIES",
    "FieldComparison",
    "Finding",
    "MemberResult",
    "VerifyReport",
    "verify_wheel",
]


def verify_wheel(
    wheel_path: str | os.PathLike[str], sdist_path: str | os.PathLike[str]
) -> VerifyReport:
    """Compare one wheel with the sdist it claims to come from."""
    wheel_path, sdist_path = os.fspath(wheel_path), os.fspath(sdist_path)
    with WheelArchive(wheel_path) as wheel:
        files = read_wheel(wheel)
        tree = {f.tree_path: f.sha256 for f in files if f.tree_path}
        sdist = read_sdist(sdist_path, tree)
        meta = compare_metadata(sdist.pkg_info, wheel.metadata.text)
        pkg_info = CoreMetadata.parse(
            sdist.pkg_info, path=sdist_path, member=f"{sdist.top}/PKG-INFO"
        )
        findings: list[Finding] = [
            Finding("note", "wheel-metadata", problem) for problem in wheel.problems
        ]
        findings += identity_findings(sdist_path, pkg_info.name, pkg_info.version, sdist.top, wheel)
        findings += tag_findings(wheel, wheel_requires_python(wheel))
        findings += record_findings(wheel, files)
        findings += [
            Finding("note", "sdist-binary", "the sdist ships a built binary (not source)", path)
            for path in sdist.binaries
        ]
        members: list[MemberResult] = []
        layout: tuple[str, ...] = ()
        fields = meta.fields
        if canonicalize_name(pkg_info.name) != canonicalize_name(wheel.metadata.name):
            # another project's sdist: hundreds of field and member findings would bury the one
            # that matters, so they are not computed
            fields = ()
            other = f"{pkg_info.name!r}, not {wheel.metadata.name!r}"
            skipped = f"the sdist is of another project ({other}): fields and members not compared"
            findings.append(Finding("note", "other-project", skipped))
        else:
            findings += meta.findings
            members, member_findings, layout = classify(wheel, files, sdist)
            findings += member_findings
        findings.sort(key=lambda f: (f.severity != "finding", f.member is not None))
        return VerifyReport(
            wheel=wheel_path,
            sdist=sdist_path,
            name=wheel.metadata.name,
            version=wheel.metadata.version,
            sdist_metadata_version=meta.sdist_version,
            wheel_metadata_version=meta.wheel_version,
            static_metadata=meta.static,
            dynamic=meta.dynamic,
            fields=fields,
            layout=layout,
            members=tuple(members),
            findings=tuple(findings),
        )


def wheel_requires_python(wheel: WheelArchive) -> str | None:
    return Headers(wheel.metadata.text).unfolded("Requires-Python")
