"""Appeals filed straight with the desk: the web form and Open311 GeoReport v2.

New tables: ``submissions`` (address, coordinates, chosen service, Open311 key and
token of a directly filed appeal), ``submission_photos``, ``resident_contacts`` (a
resident's e-mail for answers and status changes, with its unsubscribe token) and
``open311_keys``. The ``platform`` CHECK of accounts and tickets gains ``open311``.

SQLite cannot alter a CHECK constraint; rebuilding ``tickets`` would drop its full-text
triggers, so the constraint's text is edited in the schema in place, which SQLite
documents as safe for CHECK constraints (they do not change the stored format).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import desk.models.types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_PLATFORMS = "platform IN ('telegram', 'vk', 'max', 'ok', 'web')"
NEW_PLATFORMS = "platform IN ('telegram', 'vk', 'max', 'ok', 'web', 'open311')"


def _platform_check(old, new):
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name IN ('accounts', 'tickets')",
            (old, new))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
        return
    for table in ("accounts", "tickets"):
        op.drop_constraint(op.f(f"ck_{table}_platform"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_platform"), table, sa.text(new))


def upgrade():
    op.create_table('open311_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', desk.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', desk.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', desk.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_open311_keys_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_keys_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_open311_keys_name'))
    )
    op.create_table('resident_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('last_notified', sa.String(length=40), nullable=True),
    sa.Column('created_at', desk.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('unsubscribed_at', desk.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_resident_contacts_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_contacts')),
    sa.UniqueConstraint('token', name=op.f('uq_resident_contacts_token'))
    )
    with op.batch_alter_table('resident_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_contacts_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('address_id', sa.String(length=200), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('long', sa.Float(), nullable=True),
    sa.Column('media_url', sa.String(length=1000), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('open311_key_id', sa.Integer(), nullable=True),
    sa.Column('token', sa.String(length=64), nullable=True),
    sa.Column('consent_at', desk.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('photo_location_kept', sa.Boolean(), nullable=False),
    sa.Column('created_at', desk.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('web', 'open311')", name=op.f('ck_submissions_channel')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_submissions_category_id_categories')),
    sa.ForeignKeyConstraint(['open311_key_id'], ['open311_keys.id'], name=op.f('fk_submissions_open311_key_id_open311_keys')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_submissions_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_submissions_ticket_id'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_token', ['token'], unique=True)

    op.create_table('submission_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', desk.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_photos_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_photos')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_submission_photos_stored_name'))
    )
    with op.batch_alter_table('submission_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_photos_submission_id'), ['submission_id'], unique=False)

    _platform_check(OLD_PLATFORMS, NEW_PLATFORMS)


def downgrade():
    _platform_check(NEW_PLATFORMS, OLD_PLATFORMS)
    op.drop_table('submission_photos')
    op.drop_table('submissions')
    op.drop_table('resident_contacts')
    op.drop_table('open311_keys')
