"""`python -m jixiao_cli` runs the `jixiao` command."""

from jixiao_cli.main import cli

if __name__ == "__main__":  # not when a worker process of `jixiao batch --jobs` imports it
    cli(prog_name="jixiao")
