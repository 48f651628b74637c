"""``python -m tracker`` is the ``tracker`` command."""

from tracker.ops.cli import main

main()
