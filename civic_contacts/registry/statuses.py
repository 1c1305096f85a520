"""Where a delivery is in its life: the statuses alone, for code that only names them (the
command line's listings), without the ledger and the database behind them (`deliver/ledger.py`)."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """Where a delivery is in its life."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
