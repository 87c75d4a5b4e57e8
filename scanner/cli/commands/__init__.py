"""One module per command or command group; each registered by one line in scanner/cli/group.py."""
