"""ids of horses, jockeys and trainers up to 24 characters: exports beyond JV-Data's widths

Revision ID: 2800
Revises: 2700
Create Date: 2026-12-06 22:00:00

JV-Data writes a horse's id in 10 digits and a jockey's or trainer's in 5, and the store's
columns were that wide. Other exports are not: a Hong Kong export's horse ids are 12 characters
(``HK_2019_A123``) and its jockey and trainer codes letters of any length. Validation sets aside
a value longer than its column (``fields_fit_the_store``: PostgreSQL would refuse the whole
write), so such an export had every race set aside. ``runners.horse_id``, ``jockey_id``,
``trainer_id`` and ``features.horse_id`` become ``VARCHAR(24)``; stored values are unchanged.
On PostgreSQL a wider ``VARCHAR`` is a change of the catalog only; SQLite copies the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2800"
down_revision = "2700"
branch_labels = None
depends_on = None

# (table, column, width before, width after)
WIDENED = (
    ("runners", "horse_id", 10, 24),
    ("runners", "jockey_id", 5, 24),
    ("runners", "trainer_id", 5, 24),
    ("features", "horse_id", 10, 24),
)


def _alter(widths: dict[tuple[str, str], tuple[int, int]]) -> None:
    for table in dict.fromkeys(table for table, _ in widths):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for (owner, column), (before, after) in widths.items():
                if owner == table:
                    batch_op.alter_column(
                        column,
                        existing_type=sa.String(length=before),
                        type_=sa.String(length=after),
                    )


def upgrade() -> None:
    _alter({(table, column): (before, after) for table, column, before, after in WIDENED})


def downgrade() -> None:
    _alter({(table, column): (after, before) for table, column, before, after in WIDENED})
