"""The ``verify`` fuzz harness (fuzz/harnesses.py ``verify_texts``) on its seeds and on
hostile texts, in the ordinary suite: verify's own readers of an sdist (PKG-INFO against
METADATA, package_dir from setup.py/setup.cfg/pyproject.toml, meson.build, templates)."""

from __future__ import annotations

import pytest

from test_fuzz_reproducers import _load

HOSTILE = {
    "deep-setup-py": b"\0\0setup(package_dir=" + b"{" * 50_000 + b"\0",
    "deep-toml": b"\0\0\0\0x = " + b"[" * 50_000,
    "escape": b"\0\0setup(package_dir={'a': '../../etc', 'b': '/abs', '': '.'})\0"
    b"[options]\npackage_dir = a = ../x\0[tool.setuptools]\npackage-dir = {a = 1}",
    "not-utf8": b"\xff\xfe\0\xff\0\xff\0\xff\0\xff\0\xff\0\xff\xfe@X@\0\xff",
    "bad-ini": b"\0\0\0[options\npackage_dir\n\0",
    "template-lines": b"\0\0\0\0\0\0a = '@X@'\nb\0a = 'q'\n",
}


@pytest.mark.parametrize("name", ["full", "legacy-metadata", "signature", "crlf", "pkg-info-only"])
def test_seeds_pass(name: str) -> None:
    seeds, harnesses = _load("seeds"), _load("harnesses")
    harnesses.verify_texts(seeds._verify_seeds()[name])


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_texts_give_only_truewheel_errors(name: str) -> None:
    _load("harnesses").verify_texts(HOSTILE[name])


def test_the_harness_is_registered_with_seeds_and_a_dictionary() -> None:
    seeds = _load("seeds")
    assert "verify" in _load("harnesses").HARNESSES
    assert seeds.MAX_LEN["verify"] and seeds.DICTIONARIES["verify"]
