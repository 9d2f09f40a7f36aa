"""Ready definitions for orchestrators (`pip install 'cja-sync[dagster]'`): see README "Fleet"."""
