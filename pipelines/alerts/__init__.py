"""`cja-sync alert` and the heartbeat: what is new and resolved since each sink was last told
(items.py, from the spells in `health_alerts`), the messages of each kind of sink (messages.py),
posting them with bounded retries and never a word of their URLs (post.py), what each sink was
told, kept in the warehouse (deliveries.py), and the whole round (send.py). Prints nothing: the
commands do."""
