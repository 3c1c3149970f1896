from django import template

from reporting.checks import rules

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
