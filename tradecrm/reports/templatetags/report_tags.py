"""`{{ value|report_cell:kind }}`: a report table cell as shown (money with grouping, percentages,
days), and `{% report_query query key=value %}`: the filters of the page as a query string."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.http import urlencode

register = template.Library()


@register.filter
def report_cell(value, kind: str):
    if value is None or value == "":
        return "—" if kind != "text" else ""
    if kind == "money":
        return floatformat(value, "2g")
    if kind == "number":
        return floatformat(value, "-3g")
    if kind in ("percent", "days"):
        text = floatformat(value, "1g")
        return f"{text} %" if kind == "percent" else text
    if kind == "int":
        return floatformat(value, "g")
    return value


@register.simple_tag
def report_query(query: dict, **extra) -> str:
    return urlencode({**query, **{k: v for k, v in extra.items() if v is not None}})
