"""The error for input that cannot be used at all, importable without pandas.

The CLI catches it around every command; keeping it here lets a no-op `clusnet run` (everything
up to date) answer without importing pandas, pyarrow or numpy.
"""
from __future__ import annotations


class InputError(Exception):
    """The input cannot be used at all (missing directory, unreadable file)."""
