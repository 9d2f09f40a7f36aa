"""The command layer: argument handling, terminal output and exit codes of each `cja-sync`
command. The only layer that prints; the engine (`run/`, `warehouse/`) returns typed records and
reports progress through the listener it is given."""
