"""The nearest running deadline of a ticket: ``tickets.next_due_at``.

"Overdue" meant only the resolution deadline, so a missed 24-hour reaction was invisible
in the lists. ``next_due_at`` is the reaction's deadline until the city reacted, then the
resolution's (none while the clock is paused); the lists filter and sort by it, on
indexes that replace the three resolution-deadline ones. Existing rows are filled in by
one UPDATE with the same rule as ``desk.models.tickets.next_due``.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import desk.models.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tickets', sa.Column('next_due_at', desk.models.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE tickets SET next_due_at = CASE "
               "WHEN reacted_at IS NULL AND reaction_due_at IS NOT NULL THEN reaction_due_at "
               "WHEN sla_paused_at IS NULL THEN resolution_due_at END")
    with op.batch_alter_table('tickets') as batch:
        batch.drop_index('ix_tickets_status_due')
        batch.drop_index('ix_tickets_department_due')
        batch.drop_index('ix_tickets_due_id')
        batch.create_index('ix_tickets_status_next_due', ['status', 'next_due_at', 'id'])
        batch.create_index('ix_tickets_department_next_due', ['department_id', 'next_due_at', 'id'])
        batch.create_index('ix_tickets_next_due_id', ['next_due_at', 'id'])


def downgrade():
    with op.batch_alter_table('tickets') as batch:
        batch.drop_index('ix_tickets_next_due_id')
        batch.drop_index('ix_tickets_department_next_due')
        batch.drop_index('ix_tickets_status_next_due')
        batch.create_index('ix_tickets_due_id', ['resolution_due_at', 'id'])
        batch.create_index('ix_tickets_department_due', ['department_id', 'resolution_due_at', 'id'])
        batch.create_index('ix_tickets_status_due', ['status', 'resolution_due_at', 'id'])
    op.drop_column('tickets', 'next_due_at')
