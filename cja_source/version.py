"""The one place the package version is written (pyproject reads it, `--version` and `sync_runs` show it)."""

__version__ = "0.3.0"
