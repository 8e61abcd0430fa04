"""ingest-worker: turns uploaded contact files into clean, deduplicated, per-tenant data."""

__version__ = "0.1.0"
