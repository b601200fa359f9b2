"""`python -m autonas ...`: the same command line as the `autonas` console script."""
from autonas.cli import main

raise SystemExit(main())
