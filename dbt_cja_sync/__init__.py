"""The dbt package as package data (`cja_sync.dbt_cja_sync` once installed): `cja-sync dbt` runs it
from there (pipelines/run/dbt.py), and a dbt project of yours can install it as a local package
(docs/dbt.md). dbt reads only the YAML and SQL files; this file only makes the folder importable.

dbt imports every top-level module named `dbt_*` it can list as a possible plugin, and this folder is
one when Python lists the repository root: the runner starts dbt with PYTHONSAFEPATH=1 (no working
directory on sys.path) so that it never is."""
