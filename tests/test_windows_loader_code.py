"""Which directories a Windows wheel's own Python code adds to the DLL search: the
package entry points, and what ``.pth`` files run at start-up (pywin32's bootstrap)."""

from __future__ import annotations

from truewheel.analysis.windows import dll_managing_dirs, pth_startup

MEMBERS = [
    "pw.pth",
    "pw/lib/pw_bootstrap.py",
    "pw/core.pyd",
    "pw_system32/pwtypes311.dll",
    "pw_other/other.dll",
    "boot.py",
    "pkg/__init__.py",
    "pw-1.0.dist-info/RECORD",
]
BOOTSTRAP = b"""# adds pw_other? no: this comment names it, the code does not
import pw_system32, os
for path in pw_system32.__path__:
    os.add_dll_directory(path)
"""


def test_pth_import_lines_and_the_modules_they_import() -> None:
    """site runs lines starting ``import``; the module is looked for at the root, then in
    the directories the same .pth adds (backslashes are Windows separators)."""
    pth = b"# comment\npw\npw\\lib\nimport pw_bootstrap\nimport sys; import boot as b, pkg.sub\n"
    lines, modules = pth_startup(MEMBERS, {"pw.pth": pth})
    assert lines == {"pw.pth": b"import pw_bootstrap\nimport sys; import boot as b, pkg.sub"}
    assert modules == ["boot.py", "pkg/__init__.py", "pw/lib/pw_bootstrap.py"]
    assert pth_startup(MEMBERS, {"pw.pth": b"pw\npw\\lib\n"}) == ({}, [])


def test_pth_module_adds_only_the_folders_it_names() -> None:
    """The bootstrap adds pw_system32 (named in its code); not its own folder pw/ (it is
    no package entry point), not pw_other (named in a comment only)."""
    code = {"pw.pth": b"import pw_bootstrap", "pw/lib/pw_bootstrap.py": BOOTSTRAP}
    assert dll_managing_dirs(MEMBERS, {}, code) == {"pw_system32"}
    quiet = {"pw/lib/pw_bootstrap.py": b"import pw_system32\n"}  # names it, loads nothing
    assert dll_managing_dirs(MEMBERS, {}, quiet) == set()


def test_package_entry_point_keeps_its_rule() -> None:
    """An ``__init__.py`` that loads DLLs reaches its own package and the .libs it names."""
    loader = {"pkg/__init__.py": b"os.add_dll_directory(os.path.join(here, '..', 'pkg.libs'))"}
    assert dll_managing_dirs(MEMBERS, loader) == {"pkg", "pkg.libs"}
