"""The duplicate check meets the issue's quality targets on the labelled set (no database)."""

from tradecrm.dedup.tests.quality import evaluate, load


def test_labelled_set_is_a_few_hundred_records_in_clusters():
    records = load()
    assert len(records) >= 250
    assert len({r["cluster"] for r in records}) < len(records)  # there are duplicates
    assert any(r["holdout"] for r in records)


def test_precision_and_recall_at_the_default_threshold(settings):
    settings.TRADECRM_DEDUP_THRESHOLD = 0.85
    result = evaluate()
    assert result["threshold"] == 0.85
    for measure in ("pairs", "groups"):
        assert result[measure]["precision"] >= 0.98, result[measure]
        assert result[measure]["recall"] >= 0.95, result[measure]


def test_lookalikes_stay_apart():
    from tradecrm.dedup.scoring import score_companies

    score, reasons = score_companies(
        {"name": "Ningbo Hengda Trading Co., Ltd.", "country": "CN"},
        {"name": "Ningbo Hengda Machinery Co., Ltd.", "country": "CN"},
    )
    assert score < 0.85
    assert "different line of business (trading / machinery)" in reasons
    score, reasons = score_companies(
        {"name": "宁波恒达贸易有限公司", "country": "CN", "email": "a@hengda.cn"},
        {"name": "Ningbo Heng Da Trading Co Ltd", "country": "CN", "website": "https://www.hengda.cn"},
    )
    assert score >= 0.95
    assert reasons[0] == "same email domain hengda.cn"
