"""Where the string literal a tiny function returns lives, read from its first instructions.

Several libraries give their version only through a function such as
``mpfr_get_version(void) { return "4.2.1"; }``.  Compiled, its body is one of a few
shapes, and the literal's address can be read from them without a disassembler:

- x86-64: ``lea rel32(%rip),%rax`` (``48 8d 05``) then ``ret``, possibly inside
  ``push %rbp; mov %rsp,%rbp`` ... ``pop %rbp`` and after ``endbr64``;
- i386 (non-PIC, as PE DLLs are): ``mov $imm32,%eax`` (``b8``) then ``ret``, possibly
  inside ``push %ebp; mov %esp,%ebp`` ... ``pop %ebp``: the address is absolute;
- arm64: ``adrp x0, page; add x0, x0, #off; ret``, or ``adr x0, label`` (Apple's
  linker rewrites ``adrp``/``add`` pairs into ``adr``/``nop`` when the literal is
  near), possibly with a frame record (``stp x29, x30, [sp, #-16]!; mov x29, sp`` ...
  ``ldp x29, x30, [sp], #16``) and ``bti``/``nop`` hints around.

Anything else gives None: a function doing more than return a literal is not read.
The address is in the function's own address space (the ELF or Mach-O virtual
address, or the PE RVA the code was given): the caller maps it to a file offset.
"""

from __future__ import annotations

import struct

__all__ = ["CODE_BYTES", "returned_address"]

#: Bytes of code :func:`returned_address` needs at most.
CODE_BYTES = 32

_ENDBR64 = b"\xf3\x0f\x1e\xfa"
_PUSH_RBP = b"\x55\x48\x89\xe5"  # push %rbp; mov %rsp,%rbp
_PUSH_EBP = b"\x55\x89\xe5"  # push %ebp; mov %esp,%ebp
_LEA_RAX = b"\x48\x8d\x05"
_MOV_EAX = b"\xb8"
_POP = b"\x5d"
_RETS = (b"\xc3", b"\xf3\xc3")  # ret, rep ret

# arm64, little-endian instruction words
_ARM64_SKIP = frozenset(
    {
        0xD503201F,  # nop
        0xD503241F,  # bti
        0xD503245F,  # bti c
        0xA9BF7BFD,  # stp x29, x30, [sp, #-16]!
        0x910003FD,  # mov x29, sp
        0xA8C17BFD,  # ldp x29, x30, [sp], #16
    }
)
_ARM64_RET = 0xD65F03C0
_ARM64_WORDS = 8


def returned_address(arch: str, code: bytes, address: int) -> int | None:
    """The address of the literal the function at ``address`` (whose first bytes are
    ``code``) returns, or None when its body is not one of the known shapes.

    ``arch`` is ``x86_64``, ``i386`` or ``arm64`` (``arm64e`` is read as ``arm64``).
    """
    if arch == "x86_64":
        return _x86_64(code, address)
    if arch == "i386":
        return _i386(code)
    if arch in ("arm64", "arm64e"):
        return _arm64(code, address)
    return None


def _x86_64(code: bytes, address: int) -> int | None:
    at = len(_ENDBR64) if code.startswith(_ENDBR64) else 0
    framed = code.startswith(_PUSH_RBP, at)
    at += len(_PUSH_RBP) if framed else 0
    if not code.startswith(_LEA_RAX, at) or len(code) < at + 7:
        return None
    (rel32,) = struct.unpack_from("<i", code, at + 3)
    end = at + 7
    if not _returns(code, end, framed):
        return None
    return address + end + int(rel32)


def _i386(code: bytes) -> int | None:
    framed = code.startswith(_PUSH_EBP)
    at = len(_PUSH_EBP) if framed else 0
    if not code.startswith(_MOV_EAX, at) or len(code) < at + 5:
        return None
    (imm32,) = struct.unpack_from("<I", code, at + 1)
    return int(imm32) if _returns(code, at + 5, framed) else None


def _returns(code: bytes, at: int, framed: bool) -> bool:
    if framed:
        if not code.startswith(_POP, at):
            return False
        at += 1
    return any(code.startswith(ret, at) for ret in _RETS)


def _arm64(code: bytes, address: int) -> int | None:
    x0: int | None = None
    words = min(len(code) // 4, _ARM64_WORDS)
    for i, (word,) in enumerate(struct.iter_unpack("<I", code[: words * 4])):
        pc = address + 4 * i
        if word == _ARM64_RET:
            return x0
        if word in _ARM64_SKIP:
            continue
        if word & 0x1F != 0:
            return None  # writes a register other than x0
        if word & 0x1F000000 == 0x10000000:  # adr / adrp x0
            imm = ((word >> 5) & 0x7FFFF) << 2 | (word >> 29) & 0x3
            imm -= (imm & 0x100000) << 1  # sign-extend 21 bits
            x0 = (pc & ~0xFFF) + (imm << 12) if word >> 31 else pc + imm
        elif word & 0xFF8003E0 == 0x91000000 and x0 is not None:  # add x0, x0, #imm{, lsl #12}
            x0 += ((word >> 10) & 0xFFF) << (12 if word & 0x400000 else 0)
        else:
            return None
    return None
