"""`python -m worker` is the `ingest-worker` command."""

from worker.cli.main import main

raise SystemExit(main())
