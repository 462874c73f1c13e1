"""A strict, streaming reader for the zip container of a wheel.

Why not :mod:`zipfile`: truewheel needs the raw compressed bytes of members
(to copy them unchanged when rewriting a wheel), fast inflation through ISA-L,
positional reads that are safe from several threads, and refusals of unsafe
archives (path traversal, duplicate names, overlapping members, sizes that lie)
*before* anything is inflated.  The format facts come from PKWARE's APPNOTE.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from isal import igzip_lib, isal_zlib

from truewheel._files import open_regular
from truewheel.errors import InputError, WheelArchiveError

__all__ = ["Limits", "ZipMember", "ZipReader"]

_EOCD = struct.Struct("<IHHHHIIH")
_EOCD_SIG = 0x06054B50
_ZIP64_LOCATOR = struct.Struct("<IIQI")
_ZIP64_LOCATOR_SIG = 0x07064B50
_ZIP64_EOCD = struct.Struct("<IQHHIIQQQQ")
_ZIP64_EOCD_SIG = 0x06064B50
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_CENTRAL_SIG = 0x02014B50
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIG = 0x04034B50
_ZIP64_EXTRA_ID = 0x0001
_FLAG_ENCRYPTED = 0x1
_FLAG_UTF8 = 0x800
STORED, DEFLATED = 0, 8
_CHUNK = 1 << 20
_RAW_CHUNK = 256 << 10
# Deflate cannot compress better than about 1032:1; a larger declared ratio is a lie.
_MAX_DEFLATE_RATIO = 1100


@dataclass(frozen=True)
class Limits:
    """Ceilings that stop zip bombs before time or memory is spent on them.

    Memory never depends on these (members stream); they bound the work.  A ratio above
    ``max_ratio`` is refused only beyond a size floor, because small members compress
    extremely well in real wheels (a patchelf-padded 2 MB library at 224:1 in pillow);
    whole real wheels stay below 5:1 (see SECURITY.md).
    """

    max_member_size: int = 16 * 2**30
    max_total_size: int = 128 * 2**30
    # What a wheel's member list costs is held for the whole run (about 1.3 KB a member
    # through inspect); the largest real wheels hold tens of thousands (torch: 12,248).
    max_members: int = 100_000
    max_ratio: int = 100
    ratio_floor_member: int = 64 * 2**20
    ratio_floor_total: int = 2**30


@dataclass(frozen=True, slots=True)
class ZipMember:
    """One central-directory entry, as declared (not yet verified)."""

    name: str
    method: int
    flags: int
    crc32: int
    compressed_size: int
    file_size: int
    header_offset: int
    external_attr: int
    dos_datetime: tuple[int, int]
    create_system: int
    name_size: int = 0  # bytes of the name as stored (its UTF-8 or cp437 form may differ)

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def mode(self) -> int:
        """Unix permission bits, or 0 when the archive did not record them."""
        return (self.external_attr >> 16) & 0o7777 if self.create_system == 3 else 0


class ZipReader:
    """Random access to a zip file through one descriptor and ``os.pread``."""

    def __init__(self, path: str | os.PathLike[str], limits: Limits | None = None) -> None:
        self.path = str(path)
        self.limits = limits or Limits()
        try:
            self._fd = open_regular(self.path)
        except InputError as exc:
            raise WheelArchiveError(exc.message, path=self.path) from exc
        self._bounds: dict[int, int] = {}
        try:
            self._size = os.fstat(self._fd).st_size
            self.members: tuple[ZipMember, ...] = self._read_central_directory()
        except BaseException:
            os.close(self._fd)
            raise
        self._by_name = {m.name: m for m in self.members}

    def __enter__(self) -> ZipReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def get(self, name: str) -> ZipMember | None:
        return self._by_name.get(name)

    # -- reading -------------------------------------------------------------

    def _error(self, message: str, member: ZipMember | None = None) -> WheelArchiveError:
        return WheelArchiveError(message, path=self.path, member=member.name if member else None)

    def _pread(self, size: int, offset: int, member: ZipMember | None = None) -> bytes:
        if offset < 0 or offset + size > self._size:
            raise self._error("truncated (data runs past the end of the file)", member)
        data = os.pread(self._fd, size, offset)
        if len(data) != size:
            raise self._error("truncated (short read)", member)
        return data

    def data_offset(self, member: ZipMember) -> int:
        """Where the member's compressed bytes start, checked against its local header."""
        header = self._pread(_LOCAL.size, member.header_offset, member)
        fields = _LOCAL.unpack(header)
        if fields[0] != _LOCAL_SIG:
            raise self._error("bad local file header signature", member)
        name_len: int = fields[9]
        extra_len: int = fields[10]
        name = self._pread(name_len, member.header_offset + _LOCAL.size, member)
        try:
            same = name_len == member.name_size and _decode_name(name, fields[2]) == member.name
        except UnicodeDecodeError:
            same = False
        if not same:
            raise self._error("local header name differs from the central directory", member)
        start = member.header_offset + _LOCAL.size + name_len + extra_len
        if start + member.compressed_size > self._bounds.get(member.header_offset, self._size):
            raise self._error("member data overlaps another member (zip bomb?)", member)
        return start

    def file_chunks(self, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """The whole zip file's bytes, in chunks."""
        for at in range(0, self._size, chunk_size):
            yield self._pread(min(chunk_size, self._size - at), at)

    def stream_raw(self, member: ZipMember, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """The member's bytes exactly as stored (compressed), in chunks."""
        start = self.data_offset(member)
        for at in range(0, member.compressed_size, chunk_size):
            yield self._pread(min(chunk_size, member.compressed_size - at), start + at, member)

    def read_head(self, member: ZipMember, size: int) -> bytes:
        """The first ``size`` bytes of a member, inflating no more than needed.

        Shorter when the member is; not checked against the CRC, which covers the whole.
        """
        size = min(size, member.file_size)
        start = self.data_offset(member)
        if member.method == STORED:
            return self._pread(size, start, member)
        inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_DEFLATE)
        out = bytearray()
        consumed = 0
        chunk = max(64 * 1024, size // 2)
        try:
            while len(out) < size and not inflater.eof:
                raw = b""
                if inflater.needs_input:
                    if consumed >= member.compressed_size:
                        break
                    raw = self._pread(
                        min(chunk, member.compressed_size - consumed), start + consumed, member
                    )
                    consumed += len(raw)
                out += inflater.decompress(raw, size - len(out))
        except igzip_lib.IsalError as exc:  # type: ignore[misc]  # the stub calls it an instance
            raise self._error(f"corrupt deflate data ({exc})", member) from exc
        return bytes(out)

    def stream(self, member: ZipMember, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """Inflate a member chunk by chunk, checking size and CRC-32 as the bytes are made.

        Never more than ``chunk_size`` bytes (plus one compressed read) are in memory,
        and inflation stops at the first byte beyond the declared size, so a member
        that lies about its size costs no more than one that does not.
        """
        start = self.data_offset(member)
        crc = 0
        produced = 0
        if member.method == STORED:
            for at in range(0, member.compressed_size, chunk_size):
                data = self._pread(min(chunk_size, member.compressed_size - at), start + at, member)
                crc = isal_zlib.crc32(data, crc)
                yield data
            produced = member.compressed_size
        else:
            inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_DEFLATE)
            consumed = 0
            try:
                while not inflater.eof:
                    raw = b""
                    if inflater.needs_input:
                        if consumed >= member.compressed_size:
                            raise self._error("truncated deflate stream", member)
                        raw = self._pread(
                            min(_RAW_CHUNK, member.compressed_size - consumed),
                            start + consumed,
                            member,
                        )
                        consumed += len(raw)
                    data = inflater.decompress(raw, chunk_size)
                    if not data:
                        continue
                    produced += len(data)
                    if produced > member.file_size:
                        raise self._error(
                            f"inflates to more than its declared {member.file_size} bytes "
                            "(zip bomb?)",
                            member,
                        )
                    crc = isal_zlib.crc32(data, crc)
                    yield data
            except igzip_lib.IsalError as exc:  # type: ignore[misc]  # the stub calls it an instance
                raise self._error(f"corrupt deflate data ({exc})", member) from exc
        if produced != member.file_size:
            raise self._error(f"inflates to {produced} bytes, declared {member.file_size}", member)
        if crc != member.crc32:
            raise self._error("CRC-32 mismatch (corrupt member)", member)

    def read(self, member: ZipMember, *, limit: int | None = None) -> bytes:
        """A whole member in memory, for the small ones (metadata): refused above ``limit``."""
        if limit is not None and member.file_size > limit:
            raise self._error(f"too large to read whole ({member.file_size} bytes)", member)
        return b"".join(self.stream(member))

    # -- central directory ---------------------------------------------------

    def _read_central_directory(self) -> tuple[ZipMember, ...]:
        if self._size < _EOCD.size:
            raise self._error("not a zip file (too short)")
        tail_len = min(self._size, _EOCD.size + 0xFFFF)
        tail = self._pread(tail_len, self._size - tail_len)
        pos = tail.rfind(struct.pack("<I", _EOCD_SIG))
        if pos < 0 or pos + _EOCD.size > len(tail):
            raise self._error("not a zip file (no end of central directory record)")
        eocd_at = self._size - tail_len + pos
        (_, disk, cd_disk, _, count, cd_size, cd_offset, _) = _EOCD.unpack_from(tail, pos)
        if disk != 0 or cd_disk != 0:
            raise self._error("multi-disk zip archives are not supported")
        count, cd_size, cd_offset, cd_end = self._zip64_end(eocd_at, count, cd_size, cd_offset)
        # Data prepended to the archive shifts every offset by the same amount.
        shift = cd_end - (cd_offset + cd_size)
        if shift < 0:
            raise self._error("truncated (central directory extends past its end record)")
        if count > self.limits.max_members:
            raise self._error(f"too many members ({count})")
        directory = self._pread(cd_size, cd_offset + shift)
        return self._parse_entries(directory, count, shift, cd_offset + shift)

    def _zip64_end(
        self, eocd_at: int, count: int, cd_size: int, cd_offset: int
    ) -> tuple[int, int, int, int]:
        loc_at = eocd_at - _ZIP64_LOCATOR.size
        if loc_at < 0:
            return count, cd_size, cd_offset, eocd_at
        locator = self._pread(_ZIP64_LOCATOR.size, loc_at)
        sig, _, eocd64_at, _ = _ZIP64_LOCATOR.unpack(locator)
        if sig != _ZIP64_LOCATOR_SIG:
            return count, cd_size, cd_offset, eocd_at
        record = self._pread(_ZIP64_EOCD.size, eocd64_at)
        fields = _ZIP64_EOCD.unpack(record)
        if fields[0] != _ZIP64_EOCD_SIG:
            raise self._error("bad zip64 end of central directory record")
        return fields[7], fields[8], fields[9], eocd64_at

    def _parse_entries(
        self, directory: bytes, count: int, shift: int, cd_start: int
    ) -> tuple[ZipMember, ...]:
        members: list[ZipMember] = []
        seen: set[str] = set()
        pos = 0
        total = compressed = 0
        for _ in range(count):
            if pos + _CENTRAL.size > len(directory):
                raise self._error("truncated central directory")
            f = _CENTRAL.unpack_from(directory, pos)
            if f[0] != _CENTRAL_SIG:
                raise self._error("bad central directory entry signature")
            flags, method, crc, csize, usize = f[3], f[4], f[7], f[8], f[9]
            name_len, extra_len, comment_len = f[10], f[11], f[12]
            end = pos + _CENTRAL.size + name_len + extra_len + comment_len
            if end > len(directory):
                raise self._error("truncated central directory")
            raw_name = directory[pos + _CENTRAL.size : pos + _CENTRAL.size + name_len]
            try:
                name = _decode_name(raw_name, flags)
            except UnicodeDecodeError:
                raise self._error(
                    f"member name is not valid UTF-8 although flagged so: {raw_name!r}"
                ) from None
            extra = directory[
                pos + _CENTRAL.size + name_len : pos + _CENTRAL.size + name_len + extra_len
            ]
            offset = f[16]
            if 0xFFFFFFFF in (usize, csize, offset):
                usize, csize, offset = _apply_zip64(extra, usize, csize, offset)
            member = ZipMember(
                name=name,
                method=method,
                flags=flags,
                crc32=crc,
                compressed_size=csize,
                file_size=usize,
                header_offset=offset + shift,
                external_attr=f[15],
                dos_datetime=(f[6], f[5]),
                create_system=f[1] >> 8,
                name_size=name_len,
            )
            self._check_member(member, seen)
            total += usize
            if total > self.limits.max_total_size:
                raise self._error(f"declared total size {total} exceeds the limit (zip bomb?)")
            compressed += member.compressed_size
            members.append(member)
            pos = end
        if total > self.limits.ratio_floor_total and total > self.limits.max_ratio * max(
            compressed, 1
        ):
            raise self._error(
                f"declared to inflate {compressed} bytes to {total} (zip bomb?)",
            )
        self._check_no_overlap(members, cd_start)
        return tuple(members)

    def _check_member(self, member: ZipMember, seen: set[str]) -> None:
        problem = unsafe_name_reason(member.name) or _alias_reason(member.name)
        if problem:
            raise self._error(f"unsafe member name ({problem})", member)
        if member.name in seen:
            raise self._error("duplicate member name", member)
        seen.add(member.name)
        if member.flags & _FLAG_ENCRYPTED:
            raise self._error("encrypted members are not allowed", member)
        if member.method not in (STORED, DEFLATED):
            raise self._error(f"unsupported compression method {member.method}", member)
        if member.method == STORED and member.compressed_size != member.file_size:
            raise self._error("stored member with differing sizes", member)
        if member.file_size > self.limits.max_member_size:
            raise self._error(f"declared size {member.file_size} exceeds the limit", member)
        limits = self.limits
        ratio = limits.max_ratio if member.file_size > limits.ratio_floor_member else 0
        if ratio and member.file_size > ratio * max(member.compressed_size, 1):
            raise self._error(
                f"declared to inflate {member.compressed_size} bytes to {member.file_size} "
                f"(over {ratio}:1, zip bomb?)",
                member,
            )
        if member.file_size > _MAX_DEFLATE_RATIO * max(member.compressed_size, 1):
            raise self._error(
                f"declared size {member.file_size} is impossible for "
                f"{member.compressed_size} compressed bytes (zip bomb?)",
                member,
            )

    def _check_no_overlap(self, members: list[ZipMember], cd_start: int) -> None:
        """Refuse members whose data overlap: the trick behind non-recursive zip bombs.

        Each member's data must end before the next local header (or the central
        directory).  Here the local extra field is not yet known, so the check assumes
        none; :meth:`data_offset` repeats it with the real header before any read.
        """
        ordered = sorted(members, key=lambda m: m.header_offset)
        for current, following in zip(ordered, [*ordered[1:], None][: len(ordered)], strict=True):
            limit = following.header_offset if following else cd_start
            self._bounds[current.header_offset] = limit
            end = current.header_offset + _LOCAL.size + current.name_size + current.compressed_size
            if end > limit:
                raise self._error("member data overlaps another member (zip bomb?)", current)


def _decode_name(raw: bytes, flags: int) -> str:
    """The name as APPNOTE says: UTF-8 when flagged (strictly), else UTF-8 or cp437."""
    if flags & _FLAG_UTF8:
        return raw.decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp437")


def _apply_zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == _ZIP64_EXTRA_ID:
            values = extra[pos + 4 : pos + 4 + size]
            vpos = 0
            result = []
            for declared in (usize, csize, offset):
                if declared == 0xFFFFFFFF and vpos + 8 <= len(values):
                    result.append(struct.unpack_from("<Q", values, vpos)[0])
                    vpos += 8
                else:
                    result.append(declared)
            return result[0], result[1], result[2]
        pos += 4 + size
    return usize, csize, offset


def _alias_reason(name: str) -> str | None:
    """Why a name is another spelling of a path (``a/./b``, ``a//b``), or None.

    Installers normalise such names, so ``pkg/./x.py`` would install over ``pkg/x.py``
    while every duplicate check saw two members; a wheel has no reason to spell paths so.
    """
    parts = (name[:-1] if name.endswith("/") else name).split("/")
    if "." in parts:
        return "'.' component"
    if "" in parts:
        return "empty component"
    return None


def unsafe_name_reason(name: str) -> str | None:
    """Why a member name could escape the install root, or None when it is safe."""
    ordinary = name and ".." not in name and "\\" not in name and "\x00" not in name
    if ordinary and name[0] != "/" and name[1:2] != ":":
        return None
    if not name:
        return "empty name"
    if "\x00" in name:
        return "NUL byte"
    normalized = name.replace("\\", "/")
    if normalized.startswith("/"):
        return "absolute path"
    if len(normalized) > 1 and normalized[1] == ":":
        return "drive-letter path"
    if any(part == ".." for part in normalized.split("/")):
        return "'..' component"
    return None
