"""``python -m alphalab.runner`` — the same as ``alphalab runner``."""

from alphalab.runner.cli import main

raise SystemExit(main())
