"""Server-side sessions, API token expiry; the login failure counter moves to Redis.

Written by hand. ``user_sessions`` holds one row per signed-in browser (the cookies carry
only a random token whose SHA-256 is stored); ``api_tokens.expires_at`` is optional;
``users.failed_logins`` is dropped (desk.auth.throttle counts in Redis).

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import desk.models.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', desk.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', desk.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', desk.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('remember', sa.Boolean(), nullable=False),
        sa.Column('user_agent', sa.String(length=300), nullable=False),
        sa.Column('ip_address', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash')),
    )
    op.create_index('ix_user_sessions_user_expires', 'user_sessions', ['user_id', 'expires_at'], unique=False)
    # Adding a nullable column needs no table rebuild on SQLite.
    op.add_column('api_tokens', sa.Column('expires_at', desk.models.types.UTCDateTime(timezone=True),
                                          nullable=True))
    # SQLite (3.35+) and PostgreSQL drop a plain column in place; a batch rebuild of
    # "users" would have to copy a table that every ticket and event refers to.
    op.drop_column('users', 'failed_logins')


def downgrade():
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
    op.drop_column('api_tokens', 'expires_at')
    op.drop_index('ix_user_sessions_user_expires', table_name='user_sessions')
    op.drop_table('user_sessions')
