"""The ``pesaguard`` command line: a thin Typer front over the library."""
