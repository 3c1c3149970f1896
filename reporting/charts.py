"""Server-rendered SVG charts for the dashboards and, later, the PDFs.

Pure code: numbers in, an SVG string out; no models, no JavaScript, no external fonts,
no stylesheet needed. Everything is a presentation attribute, so the same markup renders in a
browser and in WeasyPrint. Each chart is an image with a title and a description
(``role="img"``, ``aria-labelledby``); the page shows the same numbers in a table beside
it for screen readers and for anyone who wants the exact values. Nothing relies on colour
alone: series are named in a legend and drawn with different marker shapes, and the
progress chart writes each value beside its bar.
"""

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

FONT = "Source Sans Pro, Helvetica Neue, Helvetica, Arial, sans-serif"
INK = "#1b1b1b"
MUTED = "#565c65"
GRID = "#dfe1e2"
# USWDS system colours with at least 3:1 contrast on white (WCAG 1.4.11), in the order
# series take them.
COLOURS = ("#1a4480", "#c05600", "#008817", "#8b0a03", "#5c4400", "#4d8055")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square")
WIDTH = 640

Formatter = Callable[[float], str]


def count(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    return f"{value:.1f}%"


@dataclass(frozen=True)
class Progress:
    """One measure: the actual to date, its target, and where pace says it should be."""

    label: str
    actual: float
    target: float
    expected: float | None = None


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _attrs(**attributes: object) -> str:
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attributes.items()
        if value is not None
    )


def _el(tag: str, **attributes: object) -> str:
    return f"<{tag} {_attrs(**attributes)}/>"


def _text(x: float, y: float, content: str, **attributes: object) -> str:
    attributes.setdefault("font_size", 12)
    attributes.setdefault("fill", INK)
    return f"<text {_attrs(x=_r(x), y=_r(y), **attributes)}>{escape(content)}</text>"


def _r(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(
    chart_id: str,
    title: str,
    description: str,
    height: float,
    body: list[str],
    *,
    width: int = WIDTH,
) -> SafeString:
    ident = escape(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {_r(height)}" '
        f'width="100%" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="{FONT}" class="hub-chart">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
    )
    # Every value above went through escape().
    return mark_safe(head + "".join(body) + "</svg>")


def _marker(shape: str, x: float, y: float, colour: str, size: float = 4.5) -> str:
    if shape == "square":
        side = _r(2 * size)
        return _el("rect", x=_r(x - size), y=_r(y - size), width=side, height=side, fill=colour)
    if shape == "diamond":
        s = size * 1.3
        points = f"{_r(x)},{_r(y - s)} {_r(x + s)},{_r(y)} {_r(x)},{_r(y + s)} {_r(x - s)},{_r(y)}"
        return _el("polygon", points=points, fill=colour)
    if shape == "triangle":
        s = size * 1.3
        points = f"{_r(x)},{_r(y - s)} {_r(x + s)},{_r(y + s * 0.8)} {_r(x - s)},{_r(y + s * 0.8)}"
        return _el("polygon", points=points, fill=colour)
    return _el("circle", cx=_r(x), cy=_r(y), r=_r(size), fill=colour)


def _legend(series: Sequence[Series], y: float, *, lines: bool) -> list[str]:
    out, x = [], 8.0
    for index, each in enumerate(series):
        colour, shape = COLOURS[index % len(COLOURS)], MARKERS[index % len(MARKERS)]
        if lines:
            out.append(
                _el(
                    "line",
                    x1=_r(x),
                    y1=_r(y),
                    x2=_r(x + 22),
                    y2=_r(y),
                    stroke=colour,
                    stroke_width=2,
                )
            )
            out.append(_marker(shape, x + 11, y, colour))
        else:
            out.append(_el("rect", x=_r(x + 4), y=_r(y - 6), width=14, height=12, fill=colour))
        out.append(_text(x + 28, y + 4, each.name))
        x += 40 + 6.5 * len(each.name)
    return out


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (axes end on it)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return step * power
    return 10 * power


def progress_chart(
    rows: Sequence[Progress], *, chart_id: str, title: str, description: str = ""
) -> SafeString:
    # Narrower than the other charts: it sits beside a wide table, and a narrower
    # drawing keeps its text at reading size there.
    """Horizontal bars of progress to target, each as a share of its own target: a solid
    line marks the target (100%), a diamond where the measure should be by now."""
    width, label_width, bar_left, bar_width, row_height, top = 500, 140, 148, 200, 34, 34
    shares = [
        max(r.actual / r.target, (r.expected or 0) / r.target) if r.target else 0 for r in rows
    ]
    scale_max = min(max([1.0, *shares]), 2.0)
    scale_max = math.ceil(scale_max * 4) / 4  # end the axis on a quarter of the target

    def x_of(share: float) -> float:
        return bar_left + bar_width * min(share, scale_max) / scale_max

    height = top + row_height * len(rows) + 28
    body = [
        _marker("diamond", 12, 14, INK),
        _text(24, 18, "where pace says it should be by now"),
        _el("line", x1=262, y1=6, x2=262, y2=22, stroke=INK, stroke_width=2),
        _text(270, 18, "target"),
    ]
    for tick in range(int(scale_max * 4) + 1):
        share = tick / 4
        x = x_of(share)
        body.append(_el("line", x1=_r(x), y1=top - 4, x2=_r(x), y2=_r(height - 24), stroke=GRID))
        if tick % 2 == 0 or scale_max <= 1:
            body.append(_text(x, height - 10, f"{share:.0%}", text_anchor="middle", fill=MUTED))
    for index, row in enumerate(rows):
        y = top + index * row_height
        share = row.actual / row.target if row.target else 0.0
        label = row.label if len(row.label) <= 22 else row.label[:21] + "…"
        body.append(_text(label_width, y + 17, label, text_anchor="end"))
        body.append(_el("rect", x=bar_left, y=y + 6, width=bar_width, height=16, fill="#f0f0f0"))
        body.append(
            _el(
                "rect",
                x=bar_left,
                y=y + 6,
                width=_r(x_of(share) - bar_left),
                height=16,
                fill=COLOURS[0],
            )
        )
        if row.target:
            target_x = x_of(1.0)
            body.append(
                _el(
                    "line",
                    x1=_r(target_x),
                    y1=y + 2,
                    x2=_r(target_x),
                    y2=y + 26,
                    stroke=INK,
                    stroke_width=2,
                )
            )
        if row.expected is not None and row.target:
            body.append(_marker("diamond", x_of(row.expected / row.target), y + 14, INK, 4.0))
        value = (
            f"{share:.0%} · {count(row.actual)} of {count(row.target)}"
            if row.target
            else (f"{count(row.actual)} (no target)")
        )
        body.append(_text(bar_left + bar_width + 8, y + 18, value))
    return _svg(chart_id, title, description, height, body, width=width)


def _polyline(points: list[tuple[float, float]], colour: str, *, dashed: bool = False) -> list[str]:
    if len(points) < 2:
        return []
    return [
        _el(
            "polyline",
            points=" ".join(f"{_r(x)},{_r(y)}" for x, y in points),
            fill="none",
            stroke=colour,
            stroke_width=2,
            stroke_dasharray="5 4" if dashed else None,
        )
    ]


def line_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    description: str = "",
    formatter: Formatter = count,
    max_value: float | None = None,
    partial: Sequence[str | None] = (),
) -> SafeString:
    """Quarter-over-quarter lines, one per series, each point marked with the series'
    own shape; a missing value breaks the line.

    ``partial`` gives, per category, a note for a point that stands for part of the
    whole (a quarter some coalitions have not reported yet, "1 of 2 coalitions") or
    None: such a point is drawn hollow, the line into it dashed, "partial" is written
    under its label, and the description names it, so nobody reads the drop as one."""
    notes = list(partial) + [None] * (len(categories) - len(partial))
    left, right, top, bottom, plot_height = 60, 16, 40, 34, 180
    if any(notes):
        bottom += 14
    height = top + plot_height + bottom
    values = [v for s in series for v in s.values if v is not None]
    ceiling = max_value if max_value is not None else nice_ceiling(max(values, default=0))
    plot_width = WIDTH - left - right
    step = plot_width / max(len(categories), 1)

    def x_of(index: int) -> float:
        return left + step * (index + 0.5)

    def y_of(value: float) -> float:
        return top + plot_height - plot_height * min(value, ceiling) / ceiling

    body = _legend(series, 16, lines=True)
    if any(notes):
        description = " ".join(
            [
                description,
                "Partial quarters, drawn with hollow markers and a dashed line: "
                + "; ".join(f"{c} ({n})" for c, n in zip(categories, notes, strict=True) if n)
                + ". Their figures are lower than the quarter's will be once every report "
                "counts.",
            ]
        ).strip()
    # Five intervals: a fifth of 1, 2, 2.5, 5 or 10 × 10^k is a round number too.
    for tick in range(6):
        value = ceiling * tick / 5
        y = y_of(value)
        body.append(_el("line", x1=left, y1=_r(y), x2=WIDTH - right, y2=_r(y), stroke=GRID))
        body.append(_text(left - 6, y + 4, formatter(value), text_anchor="end", fill=MUTED))
    every = max(1, math.ceil(len(categories) / 10))
    for index, category in enumerate(categories):
        label_y = top + plot_height + 22
        if index % every == 0 or index == len(categories) - 1 or notes[index]:
            body.append(_text(x_of(index), label_y, category, text_anchor="middle", fill=MUTED))
        if notes[index]:
            body.append(_text(x_of(index), label_y + 14, "partial", text_anchor="middle", fill=INK))
    for number, each in enumerate(series):
        colour, shape = COLOURS[number % len(COLOURS)], MARKERS[number % len(MARKERS)]
        runs: list[list[tuple[int, float, float]]] = [[]]
        for index, point in enumerate(each.values):
            if point is None:
                runs.append([])
                continue
            runs[-1].append((index, x_of(index), y_of(point)))
        for run in runs:
            # Solid between complete quarters, dashed into or out of a partial one.
            solid: list[tuple[float, float]] = []
            for (i1, x1, y1), (i2, x2, y2) in itertools.pairwise(run):
                if notes[i1] or notes[i2]:
                    body.extend(_polyline(solid, colour))
                    solid = []
                    body.extend(_polyline([(x1, y1), (x2, y2)], colour, dashed=True))
                else:
                    solid = solid or [(x1, y1)]
                    solid.append((x2, y2))
            body.extend(_polyline(solid, colour))
            for index, x, y in run:
                body.append(_marker(shape, x, y, colour))
                if notes[index]:
                    # Hollow: a white centre inside the series' own shape.
                    body.append(_marker(shape, x, y, "#ffffff", 2.5))
    if not values:
        body.append(
            _text(
                WIDTH / 2, top + plot_height / 2, "No figures yet", text_anchor="middle", fill=MUTED
            )
        )
    return _svg(chart_id, title, description, height, body)


def grouped_bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    description: str = "",
    formatter: Formatter = count,
    max_value: float | None = None,
    width: int = WIDTH,
    missing: str = "n/a",
) -> SafeString:
    """Horizontal bars grouped by category (a sector, a state, an indicator), one bar
    per series, each with its value written at its end; a missing value is written
    ``missing`` ("n/a", or "not reported" for a state no coalition has reported)."""
    label_width, bar_left, top, bar_height, gap = 150, 160, 34, 14, 12
    bar_width = width - bar_left - 80
    group_height = bar_height * len(series) + gap
    height = top + group_height * len(categories) + 8
    values = [v for s in series for v in s.values if v is not None]
    ceiling = max_value if max_value is not None else nice_ceiling(max(values, default=0))
    body = _legend(series, 16, lines=False) if len(series) > 1 else []
    for index, category in enumerate(categories):
        y = top + index * group_height
        label = category if len(category) <= 24 else category[:23] + "…"
        middle = y + bar_height * len(series) / 2
        body.append(_text(label_width, middle + 4, label, text_anchor="end"))
        for number, each in enumerate(series):
            value = each.values[index]
            bar_y = y + number * bar_height
            colour = COLOURS[number % len(COLOURS)]
            if value is None:
                body.append(_text(bar_left + 4, bar_y + 11, missing, fill=MUTED, font_size=11))
                continue
            length = bar_width * min(value, ceiling) / ceiling if ceiling else 0
            body.append(
                _el(
                    "rect",
                    x=bar_left,
                    y=_r(bar_y + 1),
                    width=_r(length),
                    height=bar_height - 2,
                    fill=colour,
                )
            )
            body.append(_text(bar_left + length + 4, bar_y + 11, formatter(value), font_size=11))
    body.append(_el("line", x1=bar_left, y1=top - 4, x2=bar_left, y2=_r(height - 8), stroke=MUTED))
    return _svg(chart_id, title, description, height, body, width=width)
