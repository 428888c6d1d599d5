"""`python -m jixiao_cli` runs the `jixiao` command."""

from jixiao_cli.main import cli

cli(prog_name="jixiao")
