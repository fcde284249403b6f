"""Masked forms of real-name identity data (Art. 12): the API never shows the raw values."""

from __future__ import annotations


def mask_middle(value: str, *, head: int, tail: int) -> str:
    """Keep ``head`` and ``tail`` characters and star the rest; star everything when too short to hide."""
    if not value:
        return ""
    hidden = len(value) - head - tail
    if hidden < 4:
        return "*" * len(value)
    return value[:head] + "*" * hidden + value[-tail:]


def mask_document_number(value: str) -> str:
    """110105199001011234 → 110105********1234."""
    return mask_middle(value, head=6, tail=4)


def mask_phone(value: str) -> str:
    """+8613800138000 → +86138****8000; 13800138000 → 138****8000."""
    head = 6 if value.startswith("+") else 3
    return mask_middle(value, head=head, tail=4)


def mask_name(value: str) -> str:
    """王小明 → 王**; a name keeps only its first character."""
    return value[:1] + "*" * (len(value) - 1) if value else ""
