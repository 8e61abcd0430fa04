"""PostgreSQL: the pool, the named-query loader, migrations, and the modules that run SQL."""
