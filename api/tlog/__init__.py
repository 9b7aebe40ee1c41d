"""The transparency log's pure parts: RFC 6962 Merkle trees (`merkle`), C2SP signed notes and checkpoints
(`note`), and the C2SP tlog-tiles layout (`tiles`). No database, no HTTP: the registry's log (`api/translog.py`)
stores blocks and leaves and calls these."""
