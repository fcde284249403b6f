"""The compliance dashboard's charts as server-rendered SVG (no script, no CDN): stacked hourly bars, bar lists."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#dc2626", "#4b5563"]
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 220, 40, 28, 12


def stacked_hours(hours: list[datetime], series: dict[str, list[int]], *, title: str) -> SafeString:
    """Bars per hour, stacked by series, with hour labels and a legend."""
    totals = [sum(values[index] for values in series.values()) for index in range(len(hours))]
    top = max([*totals, 1])
    inner_width, inner_height = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = inner_width / max(len(hours), 1)
    legend_height = 20 * ((len(series) + 3) // 4)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + legend_height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - 8}" y2="{HEIGHT - PAD_BOTTOM}" '
        'stroke="#9ca3af"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{PAD_LEFT - 6}" y="{HEIGHT - PAD_BOTTOM}" text-anchor="end" font-size="11">0</text>',
    ]
    for index, hour in enumerate(hours):
        x = PAD_LEFT + index * slot + 1
        base = HEIGHT - PAD_BOTTOM
        for number, (label, values) in enumerate(series.items()):
            value = values[index]
            if not value:
                continue
            height = inner_height * value / top
            base -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{max(slot - 2, 1):.1f}" height="{height:.1f}" '
                f'fill="{PALETTE[number % len(PALETTE)]}"><title>{escape(label)} '
                f"{timezone.localtime(hour):%H}:00 · {value}</title></rect>"
            )
        if index % 3 == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" text-anchor="middle" font-size="10">'
                f"{timezone.localtime(hour):%H}</text>"
            )
    for number, label in enumerate(series):
        x, y = PAD_LEFT + (number % 4) * 170, HEIGHT + 6 + 20 * (number // 4)
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def bar_list(items: list[tuple[str, int]], *, title: str) -> SafeString:
    """Horizontal bars, one per labelled count."""
    row, label_width = 22, 260
    height = max(len(items), 1) * row + 8
    top = max([count for _label, count in items] + [1])
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if not items:
        parts.append(f'<text x="{label_width - 6}" y="18" text-anchor="end" font-size="12">0</text>')
    for number, (label, count) in enumerate(items):
        y = 4 + number * row
        width = (WIDTH - label_width - 60) * count / top
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" font-size="12">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{max(width, 1):.1f}" height="{row - 8}" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{label_width + width + 6:.1f}" y="{y + 14}" font-size="12">{count}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
