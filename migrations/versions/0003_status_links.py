"""Rotatable public status links: ``tickets.status_link_version``.

Written by hand. The public status page's token is an HMAC over the ticket's id and this
version (desk/status_page/tokens.py); version 0 gives exactly the token of the links
posted before this migration, so they keep working. An administrator's "change the
status page link" adds one, and the old link answers 404.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # NOT NULL with a server default: existing rows get 0 in place (no table rebuild on
    # SQLite, no rewrite on PostgreSQL 11+).
    op.add_column('tickets', sa.Column('status_link_version', sa.Integer(), nullable=False,
                                       server_default=sa.text('0')))


def downgrade():
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('status_link_version')
