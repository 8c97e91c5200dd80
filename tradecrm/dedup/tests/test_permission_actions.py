"""Permissions by action, not by role name: an administrator's change of a role's policy takes
effect on the duplicate sweep and merges ("merge"), imports ("create") and the pool's recall runs
and pools ("manage pool")."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from tradecrm.accounts import access
from tradecrm.accounts.services import role_policy_update
from tradecrm.dedup.merge import may_merge

pytestmark = pytest.mark.django_db

SALES_DEFAULT = ["create", "edit", "delete", "reveal", "merge"]
MANAGER_ALL = ["create", "edit", "delete", "export", "reveal", "merge", "manage_pool", "see_margins"]


@pytest.fixture(autouse=True)
def _fresh_policies():
    access.clear_policy_cache()
    yield
    access.clear_policy_cache()


def _policy(admin, role, *users, **data):
    """Change a role's policy; `users` forget what they remembered (a request loads them afresh)."""
    role_policy_update(actor=admin, role=role, data=data)
    for u in users:
        access.forget(u)


def test_duplicate_sweep_follows_merge_and_scope(admin, alice, carol, client_for, monkeypatch):
    calls = []
    monkeypatch.setattr("tradecrm.dedup.tasks.dedup_sweep_now", lambda entity: calls.append(entity))
    # a rep sees only their own customers: no sweep button, the sweep is refused
    assert client_for(alice).post("/duplicates/sweep/", {"entity": "companies"}).status_code == 403
    assert 'action="/duplicates/sweep/"' not in client_for(alice).get("/duplicates/").content.decode()
    # the sales role now sees its team and keeps "merge": the sweep is allowed
    _policy(admin, "sales", scope="team")
    assert client_for(alice).post("/duplicates/sweep/", {"entity": "companies"}).status_code == 302
    # the manager role loses "merge": no sweep for carol
    _policy(admin, "manager", actions=[a for a in MANAGER_ALL if a != "merge"])
    assert client_for(carol).post("/duplicates/sweep/", {"entity": "contacts"}).status_code == 403
    assert calls == ["companies"]


def test_merge_scope_follows_the_policy_not_the_role_name(admin, alice, carol, dave, teams):
    other_team = [(dave.id, teams["west"].id, "Delta")]
    assert "not owned by you or your team" in may_merge(alice, other_team)
    # the sales role is given "all customers": a rep merges what they see, like a manager
    _policy(admin, "sales", alice, scope="all")
    assert may_merge(alice, other_team) == ""
    # a manager reduced to "own customers" merges only their own and their team's
    _policy(admin, "manager", carol, scope="own")
    assert "not owned by you or your team" in may_merge(carol, other_team)
    _policy(admin, "manager", carol, actions=[a for a in MANAGER_ALL if a != "merge"])
    assert may_merge(carol, other_team) == "Your role may not merge duplicates."


def _upload():
    return SimpleUploadedFile(
        "leads.csv", b"Company Name,Country\nAcme Imports LLC,US\n", content_type="text/csv"
    )


def test_imports_of_customers_need_create(admin, alice):
    from tradecrm.imports import services

    job = services.import_job_create(actor=alice, upload=_upload(), filename="leads.csv", entity="companies",
                                     source="generic")  # fmt: skip
    _policy(admin, "sales", alice, actions=[a for a in SALES_DEFAULT if a != "create"])
    with pytest.raises(PermissionDenied):
        services.import_job_create(actor=alice, upload=_upload(), filename="leads.csv", entity="contacts",
                                   source="generic")  # fmt: skip
    # a job uploaded before the change cannot be started after it
    with pytest.raises(PermissionDenied):
        services.import_job_start(actor=alice, job=job)


def test_recall_runs_and_pools_follow_manage_pool(admin, alice, teams, client_for):
    from tradecrm.pool.models import Pool
    from tradecrm.pool.selectors import pools_for_user

    west = Pool.objects.create(name="West pool")
    west.teams.add(teams["west"])
    c = client_for(alice)
    assert 'href="/pool/runs/"' not in c.get("/pool/").content.decode()
    assert c.get("/pool/runs/").status_code == 403
    # seeing every team is not managing their pools…
    _policy(admin, "sales", alice, scope="all")
    assert west not in pools_for_user(alice)
    # …"manage pool" is: the recall log, and the pools of the teams the rep sees
    _policy(admin, "sales", alice, actions=[*SALES_DEFAULT, "manage_pool"])
    assert 'href="/pool/runs/"' in c.get("/pool/").content.decode()
    assert c.get("/pool/runs/").status_code == 200
    assert west in pools_for_user(alice)
