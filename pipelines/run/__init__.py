"""The engine: one org's sync (`sync.py`), a fleet of orgs (`fleet.py`), the locks that keep one run
per org and one writer per warehouse, signals, and the dbt runner. Returns typed records
(`record.py`); prints nothing."""
