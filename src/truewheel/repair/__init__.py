"""``truewheel repair``: graft external libraries, exclude or delegate them, deterministically."""
