"""k-means clustering: a run through the service and the task, sizes, centres in real units,
labels, scoped visible counts, bad k, and a failed run keeps the previous clusters."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tradecrm.analysis import clustering
from tradecrm.analysis.models import ClusterRun, CompanyCluster
from tradecrm.analysis.services import cluster_run_start
from tradecrm.customers.models import Company

from .conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(alice, dave, teams):
    """40 customers: 20 recent big frequent buyers (10 of alice, 10 of dave), 20 lapsed small ones
    (alice's)."""
    from tradecrm.grading.models import CompanyGrade

    companies = Company.objects.bulk_create(
        [Company(name=f"Big {i}", country="US", owner=alice if i < 10 else dave, team=alice.team if i < 10 else dave.team)
         for i in range(20)]
        + [Company(name=f"Small {i}", country="US", owner=alice, team=alice.team) for i in range(20)]
    )  # fmt: skip
    CompanyGrade.objects.bulk_create(
        [CompanyGrade(company=c, recency_days=10 + i % 5, orders_count=20 + i % 3, amount_base=100000 + 1000 * i,
                      last_order_on=TODAY - dt.timedelta(days=10 + i % 5))
         for i, c in enumerate(companies[:20])]
        + [CompanyGrade(company=c, recency_days=400 + 10 * i, orders_count=1, amount_base=500 + i,
                        last_order_on=TODAY - dt.timedelta(days=400 + 10 * i))
           for i, c in enumerate(companies[20:])]
        + [CompanyGrade(company=Company.objects.create(name="Never ordered", owner=alice), recency_days=None)]
    )  # fmt: skip
    return companies


def test_run_finds_the_two_groups_and_labels_them(carol, alice, population, client_for, run_tasks):
    with run_tasks():
        run = cluster_run_start(actor=carol, k=2)
    run.refresh_from_db()
    assert run.status == "done" and run.customers == 40 and run.method == "kmeans"
    assert set(run.phases) == {"read", "fit", "label", "write"}
    by_label = {c["label"]: c for c in run.clusters}
    assert set(by_label) == {"champions", "lost_small"}
    big, small = by_label["champions"], by_label["lost_small"]
    assert big["size"] == 20 and small["size"] == 20
    assert big["average"]["orders"] == 20.95 and small["average"]["orders"] == 1.0
    assert 10 <= big["centroid"]["recency_days"] <= 14 and small["centroid"]["recency_days"] > 400
    assert CompanyCluster.objects.count() == 40
    assert set(
        CompanyCluster.objects.filter(company__name__startswith="Big").values_list("cluster", flat=True)
    ) == {big["cluster"]}
    page = client_for(alice).get("/analysis/clusters/")
    rows = {c["label"]: c for c in page.context["summary"]["clusters"]}
    assert (
        rows["champions"]["visible"] == 10 and rows["lost_small"]["visible"] == 20
    )  # dave's 10 are not hers
    assert rows["champions"]["visible_average"]["recency_days"] == 12.0
    assert "Best customers" in page.content.decode()
    members = client_for(alice).get(f"/analysis/customers/?cluster={big['cluster']}").context["rows"]
    assert len(members) == 10 and all(r["name"].startswith("Big") for r in members)


def test_api_start_and_read(carol, population, api_for, run_tasks):
    api = api_for(carol)
    with run_tasks():
        resp = api.post("/api/v1/analysis/clusters", {"k": 3}, content_type="application/json")
    assert resp.status_code == 202 and resp.json()["k"] == 3
    data = api.get("/api/v1/analysis/clusters").json()
    assert data["run"]["status"] == "done" and len(data["clusters"]) == 3
    assert sum(c["size"] for c in data["clusters"]) == 40
    bad = api.post("/api/v1/analysis/clusters", {"k": 9}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {"field": "k", "message": "The number of clusters must be between 2 and 8 (got 9)."}
    ]


def test_bad_k_and_a_busy_run(carol, population):
    with pytest.raises(ValidationError) as exc:
        cluster_run_start(actor=carol, k="many")
    assert exc.value.message_dict == {"k": ["Enter a whole number of clusters between 2 and 8."]}
    cluster_run_start(actor=carol, k=2)  # queued; the task is not run (no commit in this test)
    with pytest.raises(ValidationError, match="has not finished yet"):
        cluster_run_start(actor=carol, k=3)


def test_a_failing_run_keeps_the_previous_clusters(carol, population):
    first = clustering.execute(ClusterRun.objects.create(created_at="2026-03-04T00:00Z", k=2))
    before = dict(CompanyCluster.objects.values_list("company_id", "cluster"))

    def boom(phase):
        if phase == "write":
            raise RuntimeError("disk full")

    failed = clustering.execute(
        ClusterRun.objects.create(created_at="2026-03-04T00:00Z", k=4), fail_after=boom
    )
    assert failed.status == "failed" and failed.error == "disk full"
    assert dict(CompanyCluster.objects.values_list("company_id", "cluster")) == before
    assert clustering.latest_run() == first


def test_too_few_customers_fail_with_a_reason(carol, db):
    run = clustering.execute(ClusterRun.objects.create(created_at="2026-03-04T00:00Z", k=3))
    assert (
        run.status == "failed" and run.error == "Only 0 customers have ordered; 3 clusters need at least 3."
    )


def test_cli(population, capsys):
    call_command("analyse", "--clusters", "--k", "2", "--json")
    out = capsys.readouterr().out
    assert '"status": "done"' in out and '"customers": 40' in out
