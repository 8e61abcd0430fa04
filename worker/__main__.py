"""`python -m worker` is the `ingest-worker` command."""

from worker.cli import main

raise SystemExit(main())
