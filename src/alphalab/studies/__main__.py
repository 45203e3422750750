"""``python -m alphalab.studies`` = ``alphalab study``."""

from alphalab.studies.cli import main

raise SystemExit(main())
