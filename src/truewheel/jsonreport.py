"""The ``--json`` documents: one versioned envelope, one schema per command.

Every document is ``{schema: "truewheel-<command>", schema_version, tool,
...the command's fields..., errors}``; :func:`envelope` is the only place that
builds it.  The schemas live in ``schemas/<command>.schema.json`` and
docs/json-schema.md; bump a command's version in :data:`SCHEMA_VERSIONS` on any
change to its document (minor for additions, major for incompatible changes).
This module maps inspect's reports; the other commands' bodies are built
beside their renderers (``cli/_documents.py``, ``catalog/document.py``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from truewheel import __version__
from truewheel.analysis.report import (
    ImageFile,
    ImagePlatform,
    NativeFile,
    PlatformReport,
    WheelReport,
)
from truewheel.errors import TruewheelError
from truewheel.policy.manylinux import TagResult

__all__ = ["MODE_SCHEMA_VERSIONS", "SCHEMA_VERSIONS", "dumps", "envelope", "inspect_document"]

SCHEMA_VERSIONS = {
    "inspect": "1.3",
    "repair": "1.1",
    "diff": "1.1",
    "build": "1.0",
    "normalize": "1.0",
    "scan": "1.1",
    "unvendor": "1.0",
    "verify": "1.3",
}
#: Documents of a command's other modes, each with its own schema file.
MODE_SCHEMA_VERSIONS = {"verify-release": "1.2", "verify-index": "1.0"}


def envelope(
    command: str, body: dict[str, Any], errors: list[TruewheelError] | tuple[()] = ()
) -> dict[str, Any]:
    """The document of ``command``: schema id and version, the tool, its fields, errors."""
    return {
        "schema": f"truewheel-{command}",
        "schema_version": SCHEMA_VERSIONS.get(command) or MODE_SCHEMA_VERSIONS[command],
        "tool": {"name": "truewheel", "version": __version__},
        **body,
        "errors": [{"path": e.path, "member": e.member, "message": e.message} for e in errors],
    }


def dumps(document: dict[str, Any]) -> str:
    """The text ``--json`` prints: indented, one trailing newline."""
    return json.dumps(document, indent=2) + "\n"


def inspect_document(reports: list[WheelReport], errors: list[TruewheelError]) -> dict[str, Any]:
    return envelope("inspect", {"wheels": [wheel_json(r) for r in reports]}, errors)


def wheel_json(report: WheelReport) -> dict[str, Any]:
    native_bytes = report.native_bytes
    return {
        "path": report.path,
        "filename": report.filename,
        "name": report.name,
        "version": report.version,
        "wheel": {
            "wheel_version": report.wheel_info.wheel_version,
            "generator": report.wheel_info.generator,
            "root_is_purelib": report.wheel_info.root_is_purelib,
            "tags": list(report.wheel_info.tags),
        },
        "summary": {
            "members": report.member_count,
            "bytes": report.total_bytes,
            "compressed_bytes": report.compressed_bytes,
            "native_files": len(report.native_files),
            "images": len(report.images),
            "native_bytes": native_bytes,
            "vendored_bytes": report.vendored_bytes,
            "vendored_share": round(report.vendored_bytes / native_bytes, 4)
            if native_bytes
            else 0.0,
        },
        "platform": platform_json(report.platform) if report.platform else None,
        "native_files": [native_json(f) for f in report.native_files],
        "image_platform": image_platform_json(report.image_platform)
        if report.image_platform
        else None,
        "images": [image_json(f) for f in report.images],
        "findings": [asdict(f) for f in report.findings],
    }


def _tag_json(result: TagResult) -> dict[str, Any]:
    return {
        "tag": result.tag,
        "tags": result.tags,
        "policy": result.policy.name if result.policy else None,
        "constraints": [
            {"kind": r.kind, "value": r.value, "files": list(r.files), "first_allowed_by": first}
            for r, first in result.constraints
        ],
    }


def platform_json(platform: PlatformReport) -> dict[str, Any]:
    return {
        "architecture": platform.computed.architecture,
        "libc": platform.computed.libc,
        "computed_tag": platform.computed.tag,
        "computed": _tag_json(platform.computed),
        "repairable": _tag_json(platform.repairable),
        "filename_platforms": platform.filename_platforms,
        "wheel_platforms": platform.wheel_platforms,
        "external_libraries": platform.external_libraries,
    }


def native_json(f: NativeFile) -> dict[str, Any]:
    elf = f.elf
    return {
        "path": f.path,
        "size": f.size,
        "sha256": f.sha256,
        "mode": f"{f.mode:04o}",
        "elf_class": elf.elf_class,
        "architecture": elf.architecture,
        "type": elf.type,
        "pie": elf.is_pie,
        "interpreter": elf.interpreter,
        "soname": elf.soname,
        "needed": [asdict(d) for d in f.dependencies],
        "rpath": elf.rpath,
        "runpath": elf.runpath,
        "version_needs": [
            {"file": n.file, "versions": list(n.versions)} for n in elf.version_needs
        ],
        "max_versions": f.max_versions,
        "version_definitions": elf.version_defs,
        "isa_level": elf.x86_isa_level,
        "build_id": elf.build_id,
        "toolchain": elf.comment,
        "debug_info": elf.has_debug_info,
        "build_paths": [asdict(b) for b in f.build_paths],
        "identity": asdict(f.identity) if f.identity else None,
    }


def image_platform_json(platform: ImagePlatform) -> dict[str, Any]:
    return asdict(platform)


def image_json(f: ImageFile) -> dict[str, Any]:
    macho = f.macho
    pe = f.pe
    return {
        "path": f.path,
        "size": f.size,
        "sha256": f.sha256,
        "mode": f"{f.mode:04o}",
        "format": f.format,
        "architectures": list(f.architectures),
        "macho": {
            "fat": macho.fat,
            "slices": [
                {
                    "arch": s.arch,
                    "cpu_type": s.cpu_type,
                    "cpu_subtype": s.cpu_subtype,
                    "bits": s.bits,
                    "filetype": s.filetype,
                    "install_name": s.install_name,
                    "dylibs": [asdict(d) for d in s.dylibs],
                    "rpaths": list(s.rpaths),
                    "build_versions": [asdict(b) for b in s.build_versions],
                    "uuid": s.uuid,
                    "code_signature": s.code_signature is not None,
                }
                for s in macho.slices
            ],
        }
        if macho
        else None,
        "pe": {
            "machine": pe.machine,
            "arch": pe.arch,
            "is_dll": pe.is_dll,
            "pe32_plus": pe.pe32_plus,
            "subsystem": pe.subsystem,
            "timestamp": pe.timestamp,
            "imports": list(pe.imports),
            "delay_imports": list(pe.delay_imports),
            "export_name": pe.export_name,
            "export_count": pe.export_count,
            "pdb_paths": list(pe.pdb_paths),
            "rich": [asdict(r) for r in pe.rich],
            "dependent_load_flags": pe.dependent_load_flags,
            "signed": pe.signed,
            "overlay": pe.overlay,
        }
        if pe
        else None,
        "needed": [asdict(d) for d in f.dependencies],
        "build_paths": [asdict(b) for b in f.build_paths],
        "identity": asdict(f.identity) if f.identity else None,
    }
