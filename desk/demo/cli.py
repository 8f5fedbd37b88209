"""``flask demo`` and ``flask seed-bulk`` (filled in by the demo data module)."""
from flask import Flask


def init_cli(app: Flask) -> None:
    from .commands import demo_command, seed_bulk_command

    app.cli.add_command(demo_command)
    app.cli.add_command(seed_bulk_command)
