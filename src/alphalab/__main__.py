from alphalab.cli import main

raise SystemExit(main())
