"""An analyst's review of a verdict, shared by ``uavsim review`` and the web form.

The automatic verdict is never overwritten: the review is stored beside it with who, when and why, and the
shown verdict is the latest review.
"""

from __future__ import annotations

from typing import Any

from uavsim.errors import InputError
from uavsim.records import OUTCOMES, SEVERITIES
from uavsim.safety.rules import Rules, default_rules
from uavsim.store import Store

MAX_REASON_CHARS = 4000


def record_review(store: Store, flight_id: str, severity: str, reason: str, reviewer: str,
                  outcome: str | None = None, rules: Rules | None = None) -> dict[str, Any]:
    """Store a review and return it with the automatic verdict. Without ``outcome``, it follows the severity
    by the rules table (unsafe from ``unsafe_from`` upwards)."""
    if severity not in SEVERITIES:
        raise InputError(f"severity {severity!r}: must be one of {', '.join(SEVERITIES)}")
    if outcome in (None, ""):
        outcome = "unsafe" if (rules or default_rules()).is_unsafe(severity) else "safe"
    if outcome not in OUTCOMES:
        raise InputError(f"outcome {outcome!r}: must be one of {', '.join(OUTCOMES)}")
    reason = (reason or "").strip()
    if not reason:
        raise InputError("a review needs a reason")
    if len(reason) > MAX_REASON_CHARS:
        raise InputError(f"the reason is longer than {MAX_REASON_CHARS} characters")
    if not reviewer.strip():
        raise InputError("a review needs a reviewer")
    store.add_review(flight_id, reviewer.strip(), severity, outcome, reason)
    return store.reviews(flight_id)[-1]
