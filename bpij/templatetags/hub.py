from django import template

from reporting.checks import rules, values

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ uploads|get_item:kind }}``: a dict lookup by a variable key."""
    return mapping.get(key) if mapping else None


@register.filter
def figure(value):
    """A figure as a report shows it: counts with separators, rates as "7 / 9 (77.8%)",
    and "n/a" where a rate has no denominator."""
    if value is None:
        return "n/a"
    if isinstance(value, dict):
        if value.get("rate") is None:
            return f"n/a ({value['numerator']:,} / {value['denominator']:,})"
        return f"{value['rate']:.1f}% ({value['numerator']:,} / {value['denominator']:,})"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@register.filter
def rule_title(code):
    """``{{ finding.code|rule_title }}``: a check rule's plain title (reporting.checks.rules),
    shown wherever its code is."""
    return rules.title(str(code))


def _detail_text(value) -> str:
    """One value of an audit event's ``detail`` in words: a list as its items joined by
    commas, an object as "key: value" pairs, true/false as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_detail_text(item) for item in value if item not in (None, ""))
    if isinstance(value, dict):
        return "; ".join(
            f"{_detail_label(key)}: {_detail_text(item)}"
            for key, item in value.items()
            if item not in (None, "", [], {})
        )
    return str(value)


def _detail_label(key) -> str:
    return str(key).replace("_", " ")


@register.filter
def audit_detail(detail) -> list[tuple[str, str]]:
    """``{{ event.detail|audit_detail }}``: an audit event's detail as (label, text) pairs
    a person reads (never Python's ``['a@b']`` or ``{'k': 1}``), empty values left out,
    and every SSN-shaped value masked to its last four digits (a filter query or an admin
    change message could carry one)."""
    if not isinstance(detail, dict):
        return [("detail", values.mask_ssns_in(_detail_text(detail)))] if detail else []
    return [
        (_detail_label(key), values.mask_ssns_in(_detail_text(value)))
        for key, value in detail.items()
        if value not in (None, "", [], {})
    ]
