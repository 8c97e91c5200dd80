"""Reads of import jobs and saved mappings, always scoped to the user.

A job is visible to its creator, to the managers of the creator's team and the teams above it
(the team is recorded on the job when it is created), and to administrators. Missing and not
yours both end as Http404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from tradecrm.accounts.access import visible_team_ids
from tradecrm.core.ids import parse_id

from .models import ImportJob, MappingTemplate


def import_jobs_for_user(user) -> QuerySet[ImportJob]:
    qs = ImportJob.objects.all()
    if getattr(user, "is_admin", False):
        return qs
    q = Q(created_by_id=user.pk)
    teams = visible_team_ids(user) if getattr(user, "is_manager", False) else []
    if teams:
        q |= Q(team_id__in=teams)
    return qs.filter(q)


def import_job_get_for_user(user, job_id) -> ImportJob:
    pk = parse_id(job_id)
    if pk is None:
        raise Http404
    job = import_jobs_for_user(user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def mapping_templates_for_user(user, *, entity: str = "", source: str = "") -> QuerySet[MappingTemplate]:
    """Saved mappings of the user's team (and the teams a manager leads), plus shared ones."""
    qs = MappingTemplate.objects.all()
    if not getattr(user, "is_admin", False):
        teams = list(visible_team_ids(user) or []) if getattr(user, "is_manager", False) else []
        if user.team_id:
            teams.append(user.team_id)
        qs = qs.filter(Q(team__isnull=True) | Q(team_id__in=teams) | Q(created_by_id=user.pk))
    if entity:
        qs = qs.filter(entity=entity)
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("name", "id")


def mapping_template_get_for_user(user, template_id) -> MappingTemplate:
    pk = parse_id(template_id)
    template = mapping_templates_for_user(user).filter(pk=pk).first() if pk else None
    if template is None:
        raise Http404
    return template
