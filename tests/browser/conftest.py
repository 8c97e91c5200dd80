"""Browser tests run only when asked for: `pytest -m browser tests/browser` (what `make test-browser`
runs). A plain `pytest` leaves them out, like `-m "not browser"`, because they need Chromium and
the npm assets in static/vendor/."""


def pytest_collection_modifyitems(config, items):
    if config.option.markexpr or any("tests/browser" in str(a) for a in config.invocation_params.args):
        return
    keep, skipped = [], []
    for item in items:
        (skipped if item.get_closest_marker("browser") else keep).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = keep
