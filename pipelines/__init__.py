"""cja-sync: the command line and the runner around the `cja_source` dlt source.

For your own dlt pipeline: `pipeline.run(cja_source())`, then `finish_sync(pipeline)`."""

from cja_source.version import __version__

from .warehouse.finish import finish_sync

__all__ = ["finish_sync", "__version__"]
