"""The `jixiao` command line, and a small Python client for the Jixiao APIs."""
