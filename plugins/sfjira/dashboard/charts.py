"""Charts as inline SVG text: nothing to fetch, no script, readable offline and in any browser.

Each chart scales to its container (viewBox, width 100%) and carries a <title> per mark, which the
browser shows as a tooltip, so exact figures are one hover away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

# Colour-blind-safe (Okabe-Ito), one per series in order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
_W, _H = 640, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 12, 12, 40


def _svg(body: str, label: str, height: int = _H) -> str:
    return (f'<svg class="chart" viewBox="0 0 {_W} {height}" width="100%" role="img" aria-label="{escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">{body}</svg>')


def _nice_max(value: float) -> float:
    """The smallest 1/2/5 x 10^n at or above `value` (an axis that ends on a round number)."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    while step > value:
        step /= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _axis(top: float, height: float) -> str:
    """Three horizontal grid lines labelled 0, half and top."""
    out = []
    for share in (0.0, 0.5, 1.0):
        y = _TOP + (_H - _TOP - _BOTTOM) * (1 - share)
        value = top * share
        text = f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"
        out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{text}</text>')
    return "".join(out)


def _legend(names: Sequence[str], y: float) -> str:
    out, x = [], _LEFT
    for i, name in enumerate(names):
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{x + 14}" y="{y}" fill="#333">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return "".join(out)


def empty(label: str, message: str = "no data yet") -> str:
    return _svg(f'<text x="{_W / 2}" y="{_H / 2}" text-anchor="middle" fill="#777">{escape(message)}</text>',
                label, height=60)


def bars(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, label: str,
         stacked: bool = True) -> str:
    """One group per label (oldest left); the series stacked, or side by side with `stacked=False`."""
    if not labels or not series:
        return empty(label)
    names = list(series)
    values = {n: [float(v or 0) for v in series[n]] for n in names}
    tallest = max((sum(values[n][i] for n in names) if stacked else max(values[n][i] for n in names))
                  for i in range(len(labels)))
    top = _nice_max(tallest)
    plot_h = _H - _TOP - _BOTTOM
    slot = (_W - _LEFT - _RIGHT) / len(labels)
    bar_w = slot * 0.7 / (1 if stacked else len(names))
    marks = []
    for i, text in enumerate(labels):
        x0, base = _LEFT + slot * i + slot * 0.15, 0.0
        for k, name in enumerate(names):
            value = values[name][i]
            h = plot_h * value / top
            x = x0 if stacked else x0 + k * bar_w
            y = _TOP + plot_h - (base + h if stacked else h)
            marks.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(text)}: {escape(name)} {value:g}'
                         f'</title></rect>')
            if stacked:
                base += h
    return _svg(_axis(top, plot_h) + "".join(marks) + _legend(names, _H - 8), label)


def lines(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, label: str) -> str:
    """One line per series over the labels (oldest left), a dot per point."""
    if not labels or not series:
        return empty(label)
    names = list(series)
    top = _nice_max(max(float(v or 0) for n in names for v in series[n]))
    plot_h = _H - _TOP - _BOTTOM
    step = (_W - _LEFT - _RIGHT) / max(len(labels) - 1, 1)
    marks = []
    for k, name in enumerate(names):
        colour = PALETTE[k % len(PALETTE)]
        points = [(_LEFT + step * i if len(labels) > 1 else (_W + _LEFT) / 2,
                   _TOP + plot_h * (1 - float(v or 0) / top)) for i, v in enumerate(series[name])]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        marks.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        marks += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(labels[i])}: '
                  f'{escape(name)} {float(series[name][i] or 0):g}</title></circle>' for i, (x, y) in enumerate(points)]
    return _svg(_axis(top, plot_h) + "".join(marks) + _legend(names, _H - 8), label)


def hbars(items: Sequence[tuple[str, float]], *, label: str, unit: str) -> str:
    """Horizontal bars, one per item in the given order, the value written at the bar's end."""
    if not items:
        return empty(label)
    row, left = 20, 300
    height = _TOP + row * len(items) + 8
    top = _nice_max(max(v for _, v in items))
    marks = []
    for i, (name, value) in enumerate(items):
        y = _TOP + row * i
        w = (_W - left - 70) * value / top
        marks.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" fill="#333">{escape(name[-48:])}</text>'
                     f'<rect x="{left}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 6}" fill="{PALETTE[0]}">'
                     f'<title>{escape(name)}: {value:g} {escape(unit)}</title></rect>'
                     f'<text x="{left + w + 4:.1f}" y="{y + 13}" fill="#333">{value:g} {escape(unit)}</text>')
    return _svg("".join(marks), label, height=height)


def meter(used: float | None, limit: float | None, *, label: str, budget_share: float | None = None) -> str:
    """A bar of `used` out of `limit`, with a mark where the budget share stops the sync."""
    if not used and used != 0 or not limit:
        return empty(label, "no Salesforce usage reported yet")
    inner = _W - _LEFT - _RIGHT
    share = min(float(used or 0) / float(limit), 1.0)
    colour = PALETTE[2] if budget_share is None or share < budget_share * 0.8 else PALETTE[4]
    body = [f'<rect x="{_LEFT}" y="14" width="{inner}" height="18" fill="#eee"/>',
            f'<rect x="{_LEFT}" y="14" width="{inner * share:.1f}" height="18" fill="{colour}">'
            f'<title>{used:g} of {limit:g} ({share:.1%})</title></rect>',
            f'<text x="{_LEFT}" y="48" fill="#333">{used:g} of {limit:g} daily API requests ({share:.1%})</text>']
    if budget_share:
        x = _LEFT + inner * budget_share
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="8" y2="38" stroke="#000" stroke-dasharray="3,2">'
                    f'<title>sfjira stops at {budget_share:.0%}</title></line>'
                    f'<text x="{x - 4:.1f}" y="48" text-anchor="end" fill="#333">budget {budget_share:.0%}</text>')
    return _svg("".join(body), label, height=56)
