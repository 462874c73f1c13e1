"""The architecture an ELF file is built for, named as Python platform tags name it.

``e_machine`` alone does not say it.  Each processor supplement (psABI) fixes the
class (``EI_CLASS``) and byte order (``EI_DATA``) of its Linux ABI, and some split one
machine into ABIs that no loader mixes:

* x86-64 psABI: ``EM_X86_64`` with ``ELFCLASS32`` is x32, not x86_64.
* Power ELFv2 ABI: little-endian ``EM_PPC64`` is ppc64le; big-endian is ppc64.
* "ELF for the Arm Architecture" (IHI 0044): ``e_flags`` carries the EABI version
  (``EF_ARM_EABIMASK``) and the float ABI; glibc's ld.so on a hard-float system
  refuses an EABI5 file flagged ``EF_ARM_ABI_FLOAT_SOFT`` and the reverse.  The
  manylinux and musllinux armv7l policies (PEP 599, 656) mean hard-float EABI5, so a
  soft-float file (Debian armel, ``e_flags`` 0x5000200) is armv5l, the CPU its ABI
  is built for, and no armv7l tag fits it.
* MIPS: a 64-bit file is mips64 (``uname -m`` says so for either byte order).

Platform tags of 32-bit ARM name the CPU (``uname -m``: armv5tel, armv6l, armv7l,
armv8l), not the float ABI, so a file of either ABI may honestly sit in a wheel
tagged for any of them: :func:`runs_under` says which tags a file suits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Abi",
    "abi_named",
    "abi_of",
    "architecture",
    "describe",
    "runs_under",
]

EM_ARM = 40
EF_ARM_EABIMASK = 0xFF000000
EF_ARM_EABI_VER5 = 0x05000000
EF_ARM_ABI_FLOAT_SOFT = 0x200
EF_ARM_ABI_FLOAT_HARD = 0x400


@dataclass(frozen=True, slots=True)
class Abi:
    """One Linux ABI: the header values its files carry, and the tag name for it."""

    name: str
    machine: int
    elf_class: int  # 32 or 64
    little_endian: bool
    processor: str  # as the psABI calls the machine
    float_abi: str = ""  # ARM: "hard-float EABI5" or "soft-float EABI"

    def __str__(self) -> str:
        order = "little" if self.little_endian else "big"
        text = f"{self.processor} {self.elf_class}-bit {order}-endian"
        return f"{text}, {self.float_abi}" if self.float_abi else text


_ABIS = (
    Abi("x86_64", 62, 64, True, "x86-64"),
    Abi("x32", 62, 32, True, "x86-64"),
    Abi("i686", 3, 32, True, "Intel 386"),
    Abi("aarch64", 183, 64, True, "AArch64"),
    Abi("aarch64_be", 183, 64, False, "AArch64"),
    Abi("armv7l", EM_ARM, 32, True, "ARM", "hard-float EABI5"),
    Abi("armv5l", EM_ARM, 32, True, "ARM", "soft-float EABI"),
    Abi("armeb", EM_ARM, 32, False, "ARM"),
    Abi("ppc64le", 21, 64, True, "PowerPC64"),
    Abi("ppc64", 21, 64, False, "PowerPC64"),
    Abi("ppc", 20, 32, False, "PowerPC"),
    Abi("s390x", 22, 64, False, "S/390"),
    Abi("s390", 22, 32, False, "S/390"),
    Abi("riscv64", 243, 64, True, "RISC-V"),
    Abi("riscv32", 243, 32, True, "RISC-V"),
    Abi("loongarch64", 258, 64, True, "LoongArch"),
    Abi("loongarch32", 258, 32, True, "LoongArch"),
    Abi("mips64", 8, 64, True, "MIPS"),
    Abi("mips64", 8, 64, False, "MIPS"),
    Abi("mips", 8, 32, True, "MIPS"),
    Abi("mips", 8, 32, False, "MIPS"),
    Abi("sparc64", 43, 64, False, "SPARC V9"),
    Abi("sparc", 2, 32, False, "SPARC"),
    Abi("ia64", 50, 64, True, "IA-64"),
    Abi("alpha", 0x9026, 64, True, "Alpha"),
    Abi("m68k", 4, 32, False, "Motorola 68000"),
    Abi("parisc", 15, 32, False, "PA-RISC"),
    Abi("sh4", 42, 32, True, "SuperH"),
)
_BY_HEADER = {(a.machine, a.elf_class, a.little_endian, a.float_abi): a for a in _ABIS}
_BY_NAME = {a.name: a for a in reversed(_ABIS)}
_PROCESSORS = {a.machine: a.processor for a in _ABIS}
# 32-bit little-endian ARM as uname -m names it (armv5tel, armv6l, armv7l, armv8l...).
_ARM_CPU = re.compile(r"armv[4-8][a-z]*l")


def abi_of(machine: int, elf_class: int, little_endian: bool, flags: int) -> Abi | None:
    """The ABI of a file with these header values; None when no Linux ABI matches."""
    float_abi = ""
    if machine == EM_ARM and little_endian:
        hard = flags & EF_ARM_EABIMASK == EF_ARM_EABI_VER5 and flags & EF_ARM_ABI_FLOAT_HARD
        float_abi = "hard-float EABI5" if hard else "soft-float EABI"
    return _BY_HEADER.get((machine, elf_class, little_endian, float_abi))


def architecture(machine: int, elf_class: int, little_endian: bool, flags: int) -> str:
    """The platform-tag architecture; ``machine-N-BITS-ORDER`` when no Linux ABI matches."""
    abi = abi_of(machine, elf_class, little_endian, flags)
    if abi is not None:
        return abi.name
    return f"machine-{machine}-{elf_class}bit-{'le' if little_endian else 'be'}"


def describe(machine: int, elf_class: int, little_endian: bool, flags: int) -> str:
    """The header facts behind the name, for messages: ``ARM 32-bit little-endian,
    soft-float EABI, e_flags 0x5000200``."""
    abi = abi_of(machine, elf_class, little_endian, flags)
    if abi is None:
        processor = _PROCESSORS.get(machine, f"e_machine {machine}")
        abi = Abi("", machine, elf_class, little_endian, processor)
    return f"{abi}, e_flags {flags:#x}" if flags else str(abi)


def abi_named(name: str) -> Abi | None:
    """The ABI a platform-tag architecture stands for (the first, for mips and mips64)."""
    return _BY_NAME.get(name)


def runs_under(file_arch: str, tag_arch: str) -> bool:
    """Whether a file of ``file_arch`` may sit in a wheel tagged for ``tag_arch``.

    Equal names do; so does any 32-bit little-endian ARM file under any 32-bit ARM CPU
    tag, whose name says nothing of the float ABI (Debian armel on an ARMv7 CPU is
    ``linux_armv7l`` too) and whose CPU level only ``.ARM.attributes`` would tell.
    """
    if file_arch == tag_arch:
        return True
    return file_arch in ("armv5l", "armv7l") and _ARM_CPU.fullmatch(tag_arch) is not None
