"""The ``ingest-worker`` command: :mod:`.main` (the parser and the worker's own commands),
:mod:`.jobs` (``jobs`` and ``review``), :mod:`.producers` (``submit``, ``discover``...),
:mod:`.common` (exit codes, running a command). Empty on purpose: importing a command
module never imports the others."""
