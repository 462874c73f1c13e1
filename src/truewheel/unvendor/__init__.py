"""``truewheel unvendor``: one shared copy of a library that several wheels vendor.

The parts, each testable alone: :mod:`copies` finds the vendored copies and who
binds to them, :mod:`gate` chooses the copy to share (ABI, version, platform),
:mod:`names` derives the library wheel's names, :mod:`library` writes the loader
module and metadata of the library wheel, :mod:`consumer` plans the edits of each
consumer wheel, :mod:`sbom` records what moved where and why it is safe.
"""
