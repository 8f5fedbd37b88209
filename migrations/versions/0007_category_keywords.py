"""Category keywords: the words residents use for a problem, set by administrators or by
``flask departments import`` (the triage's prior before it has learnt anything).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('categories', sa.Column('keywords', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table('categories') as batch:
        batch.drop_column('keywords')
