"""The warehouse side: the dlt pipeline of a destination, the health views and data dictionary,
what follows a load (deletions, the run log, alerts' conditions, upkeep), the DuckDB working and
published files, and reading without writing."""
