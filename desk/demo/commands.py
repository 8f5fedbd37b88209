import click
@click.command("demo")
def demo_command():
    """Load demo data (to be written)."""
@click.command("seed-bulk")
def seed_bulk_command():
    """Bulk tickets (to be written)."""
