"""Small charts as inline SVG (no script, nothing fetched): stacked columns per day, a line, and horizontal bars
for utilisation. The SVG has no xmlns: inline in HTML it needs none, and the report holds no URL at all."""

from __future__ import annotations

from html import escape

COLOURS = ("#2f6f9f", "#d9822b", "#4c9a5f", "#b5485d", "#7a5ea8", "#8c8c8c")
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 50


def human(value: float) -> str:
    """3 significant digits with k, M, G, T."""
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _frame(body: list[str], top: float, unit: str, labels: list[str]) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    out = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart">']
    for i in range(5):
        y = TOP + plot_h * (1 - i / 4)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{human(top * i / 4)}</text>')
    out.append(
        f'<text x="12" y="{TOP + plot_h / 2:.0f}" transform="rotate(-90 12 {TOP + plot_h / 2:.0f})" '
        f'text-anchor="middle">{escape(unit)}</text>'
    )
    step = max(1, len(labels) // 12)
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    for i, label in enumerate(labels):
        if i % step == 0:
            x = LEFT + slot * (i + 0.5)
            out.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>')
    return "".join(out + body + ["</svg>"])


def columns(labels: list[str], series: dict[str, list[float]], unit: str) -> str:
    """Stacked columns: one per label, a segment per series."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    body = []
    for i, label in enumerate(labels):
        y = TOP + plot_h
        for (name, values), colour in zip(series.items(), COLOURS, strict=False):
            h = plot_h * values[i] / top
            y -= h
            body.append(
                f'<rect x="{LEFT + slot * i + slot * 0.1:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(label)} {escape(name)}: {human(values[i])}</title></rect>'
            )
    body += _legend(list(series))
    return _frame(body, top, unit, labels)


def line(labels: list[str], values: list[float], unit: str) -> str:
    top = max(values, default=0) or 1
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    points = " ".join(f"{LEFT + slot * (i + 0.5):.1f},{TOP + plot_h * (1 - v / top):.1f}" for i, v in enumerate(values))
    body = [f'<polyline points="{points}" fill="none" stroke="{COLOURS[0]}" stroke-width="2"/>']
    body += [
        f'<circle cx="{LEFT + slot * (i + 0.5):.1f}" cy="{TOP + plot_h * (1 - v / top):.1f}" r="3" '
        f'fill="{COLOURS[0]}"><title>{escape(labels[i])}: {human(v)}</title></circle>'
        for i, v in enumerate(values)
    ]
    return _frame(body, top, unit, labels)


def _legend(names: list[str]) -> list[str]:
    out = []
    for i, (name, colour) in enumerate(zip(names, COLOURS, strict=False)):
        x = LEFT + 150 * i
        out.append(f'<rect x="{x}" y="{HEIGHT - 18}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{HEIGHT - 9}">{escape(name)}</text>')
    return out


def utilisation(items: list[tuple[str, float]], limit: float) -> str:
    """Horizontal bars of need / capacity, with the planning limit marked; bars beyond 1 are clipped and say so."""
    row, label_w, width = 28, 300, WIDTH
    height = row * len(items) + 30
    scale = (width - label_w - 60) / max(1.0, max((v for _, v in items), default=1.0), limit)
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" class="chart">']
    for i, (label, value) in enumerate(items):
        y = 10 + row * i
        colour = COLOURS[3] if value > 1 else COLOURS[1] if value > limit else COLOURS[2]
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        out.append(
            f'<rect x="{label_w}" y="{y}" width="{max(1.0, value * scale):.1f}" height="18" fill="{colour}">'
            f"<title>{value:.1%}</title></rect>"
        )
        out.append(f'<text x="{label_w + value * scale + 6:.1f}" y="{y + 14}">{value:.1%}</text>')
    for mark, dash in ((limit, "4 3"), (1.0, "")):
        x = label_w + mark * scale
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{height - 20}" stroke="#333" stroke-dasharray="{dash}"/>'
        )
        out.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{mark:.0%}</text>')
    return "".join([*out, "</svg>"])
