"""pesaguard: fraud defence for mobile money.

Importing the package has no side effects: no files, connections or logging set-up.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
