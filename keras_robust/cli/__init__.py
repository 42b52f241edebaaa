"""The `robust-cli` command line."""
