"""reference times by surface: ``reference_times.surface`` joins the primary key

Revision ID: 2600
Revises: 2500
Create Date: 2026-12-07 12:00:00

A reference cell was venue x distance (x class): at JRA turf and dirt at one venue and distance
shared one par, and a jump race moved the flat par of its distance. ``surface`` (``turf``,
``dirt``, ``jump``, ``other``) joins the key after ``keibajo_code``. Rows stored before are of
versions learned over every surface: they get ``""`` (every surface), which the lookup falls
back to, so those versions read as they did. Going down keeps those rows only: a version
learned by surface has no venue x distance cells to fold back into, so it reads as empty and
is learned again when a stage next needs it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2600"
down_revision = "2500"
branch_labels = None
depends_on = None

OLD_KEY = ["version", "kind", "keibajo_code", "distance_m", "class_code"]
NEW_KEY = ["version", "kind", "keibajo_code", "surface", "distance_m", "class_code"]


def upgrade() -> None:
    with op.batch_alter_table("reference_times", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("surface", sa.String(length=8), server_default="", nullable=False)
        )
        batch_op.drop_constraint("pk_reference_times", type_="primary")
        batch_op.create_primary_key("pk_reference_times", NEW_KEY)


def downgrade() -> None:
    reference_times = sa.table("reference_times", sa.column("surface", sa.String(length=8)))
    op.get_bind().execute(sa.delete(reference_times).where(reference_times.c.surface != ""))
    with op.batch_alter_table("reference_times", schema=None) as batch_op:
        batch_op.drop_constraint("pk_reference_times", type_="primary")
        batch_op.create_primary_key("pk_reference_times", OLD_KEY)
        batch_op.drop_column("surface")
