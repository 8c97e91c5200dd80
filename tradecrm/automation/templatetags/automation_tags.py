"""`{% approvals_for "quotation" doc.pk %}`: the approval requests of a record with their decision,
who took it and the reason — on the quotation, order and customer pages."""

from django import template

register = template.Library()


@register.inclusion_tag("automation/_record_approvals.html", takes_context=True)
def approvals_for(context, obj_type: str, obj_id, company_id=None):
    from tradecrm.automation.selectors import approvals_of_record

    rows = approvals_of_record(obj_type, obj_id, company_id=company_id) if obj_id else []
    return {"rows": rows, "request": context.get("request")}
