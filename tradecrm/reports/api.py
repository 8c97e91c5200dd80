"""JSON API of exports: any filtered list to CSV or XLSX, streamed."""

from ninja import Router

exports = Router(tags=["exports"])
