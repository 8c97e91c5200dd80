"""JSON API of customer analysis (RFM segments, clusters, win-back list, recommendations),
mounted at /api/v1/analysis."""

from ninja import Router

analysis = Router(tags=["analysis"])
