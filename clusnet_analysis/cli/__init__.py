"""The ``clusnet`` command."""
from .app import main  # noqa: F401
