"""Reviewers' decisions and the fingerprint each one is bound to (pure).

A decision typed in the sheet (Decision / Approver / Review date) is bound by the server to the
fingerprint of the picture the row showed at that moment, in the machine column "Decision
fingerprint" as "<fp12>:<sig>", sig being a hash of the decision cells. The row is approved only
while that binding matches both the current fingerprint and the current decision cells: a changed
source (new fingerprint) re-opens review even though the Decision cell still says "approved", and
a reviewer re-approves by entering a new decision (a new Review date is enough).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .catalog.model import Row
from .errors import RowError, shown

APPROVED = {"approved", "approve", "ok", "yes", "да", "одобрено", "одобрен", "утверждено"}
REJECTED = {"rejected", "reject", "no", "нет", "отклонено", "отклонён", "отклонен"}


@dataclass(frozen=True)
class Decision:
    verdict: str  # "approved", "rejected" or "" (none / unreadable)
    variant: int = 1  # "approved 2" picks the second variant
    raw: str = ""


MAX_VARIANT = 99


def parse_decision(text: str) -> Decision:
    """A Decision cell: a verdict word, optionally followed by the variant number ("approved 2").

    Anything else reads as no decision. A word with a number past MAX_VARIANT is a RowError (its
    message goes into the row): no picture has that many variants.
    """
    raw = text.strip()
    folded = raw.casefold()
    # Trailing digits by hand, not a backtracking regex: a cell may hold 100,000 characters.
    word = folded.rstrip("0123456789")
    digits = folded[len(word) :]
    word = word.strip()
    if word not in APPROVED and word not in REJECTED:
        return Decision("", 1, raw)
    if len(digits) > 2 or (digits and int(digits) > MAX_VARIANT):
        raise RowError(f"Decision {shown(raw)}: variant number too large (1..{MAX_VARIANT})")
    variant = int(digits) if digits else 1
    if word in APPROVED:
        return Decision("approved", variant, raw)
    if word in REJECTED:
        return Decision("rejected", 1, raw)
    return Decision("", 1, raw)


def signature(row: Row) -> str:
    cells = "|".join(row.get(k).strip() for k in ("decision", "approver", "review_date"))
    return hashlib.sha256(cells.encode()).hexdigest()[:8]


def binding(fingerprint: str, row: Row) -> str:
    return f"{fingerprint[:12]}:{signature(row)}"


def bound_state(row: Row, fingerprint: str, decision: Decision | None = None) -> str:
    """'approved' / 'rejected' when the row's decision is bound to `fingerprint`, else ''.
    `decision`: the row's Decision cell as parse_row read it (read again when not given)."""
    decision = decision or parse_decision(row.get("decision"))
    if decision.verdict and row.get("decision_fp") == binding(fingerprint, row):
        return decision.verdict
    return ""


def describe_old_approval(row: Row) -> str:
    who = row.get("approver") or "a reviewer"
    when = row.get("review_date")
    old = row.get("decision_fp").split(":")[0] or row.get("fingerprint")[:12]
    return (
        f"{row.get('decision') or 'decision'} by {who}"
        + (f" on {when}" if when else "")
        + f" (fp {old})"
    )
