"""Copy the browser assets the web UI needs from node_modules/ into static/vendor/.

Run after `npm ci`. static/vendor/ is generated (git-ignored); the exact versions come from
package.json / package-lock.json. Source maps are copied too because the manifest static-files
storage follows their `sourceMappingURL` comments during collectstatic.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
DEST = ROOT / "static" / "vendor"

# (file under node_modules, destination under static/vendor)
FILES = [
    ("@tabler/core/dist/css/tabler.min.css", "tabler/tabler.min.css"),
    ("@tabler/core/dist/css/tabler.min.css.map", "tabler/tabler.min.css.map"),
    ("@tabler/core/dist/js/tabler.min.js", "tabler/tabler.min.js"),
    ("@tabler/core/dist/js/tabler.min.js.map", "tabler/tabler.min.js.map"),
    ("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js"),
    ("tom-select/dist/js/tom-select.complete.min.js", "tom-select/tom-select.complete.min.js"),
    ("tom-select/dist/js/tom-select.complete.min.js.map", "tom-select/tom-select.complete.min.js.map"),
    ("tom-select/dist/css/tom-select.bootstrap5.min.css", "tom-select/tom-select.bootstrap5.min.css"),
    ("tom-select/dist/css/tom-select.bootstrap5.min.css.map", "tom-select/tom-select.bootstrap5.min.css.map"),
    # Tabler's own styling of Tom Select (and other plugins), matching its form controls
    ("@tabler/core/dist/css/tabler-vendors.min.css", "tabler/tabler-vendors.min.css"),
    ("@tabler/core/dist/css/tabler-vendors.min.css.map", "tabler/tabler-vendors.min.css.map"),
    # drag and drop on the pipeline board (loaded by that page only)
    ("sortablejs/Sortable.min.js", "sortablejs/Sortable.min.js"),
    # charts of the dashboard and the reports (Apache-2.0)
    ("echarts/dist/echarts.min.js", "echarts/echarts.min.js"),
    ("echarts/LICENSE", "echarts/LICENSE"),
    ("world-atlas/LICENSE", "world/LICENSE"),
]

# The world map of the "sales by country" chart: Natural Earth 1:110m countries (world-atlas,
# ISC; the data is public domain) shipped as TopoJSON, converted here into the GeoJSON that
# `echarts.registerMap` takes, each country named by its ISO 3166-1 alpha-2 code (the code the
# database keeps) so chart data matches without a name table in the browser.
WORLD_TOPOJSON = "world-atlas/countries-110m.json"
WORLD_GEOJSON = "world/countries.geo.json"

# Tabler icons inlined into pages by tradecrm.core.icons (only the ones the UI uses)
ICONS = """
    phone mail users video brand-whatsapp brand-wechat message-circle map-pin building-store package note
    bell calendar-event arrow-down-left arrow-up-right arrows-exchange paperclip clock check alert-triangle
    calendar-off
""".split()
FILES += [(f"@tabler/icons/icons/outline/{n}.svg", f"icons/{n}.svg") for n in ICONS]


def topojson_to_geojson(topo: dict, obj: str = "countries") -> dict:
    """Decode a quantized TopoJSON object into a GeoJSON FeatureCollection (polygons only)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append([round(x * sx + tx, 3), round(y * sy + ty, 3)])
        arcs.append(points)

    def ring(indexes: list[int]) -> list:
        out: list = []
        for i in indexes:
            points = arcs[i] if i >= 0 else arcs[~i][::-1]
            out.extend(points if not out else points[1:])
        return out

    features = []
    for g in topo["objects"][obj]["geometries"]:
        if g.get("type") == "Polygon":
            geometry = {"type": "Polygon", "coordinates": [ring(r) for r in g["arcs"]]}
        elif g.get("type") == "MultiPolygon":
            geometry = {"type": "MultiPolygon", "coordinates": [[ring(r) for r in p] for p in g["arcs"]]}
        else:
            continue
        features.append({"type": "Feature", "id": g.get("id"), "properties": dict(g.get("properties") or {}),
                         "geometry": geometry})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def world_map() -> dict:
    """The world map with each country's `name` its ISO alpha-2 code (`title`: the English name).
    Countries without an ISO number in the data (e.g. Kosovo, Northern Cyprus) keep their name."""
    import pycountry

    geo = topojson_to_geojson(json.loads((NODE / WORLD_TOPOJSON).read_text(encoding="utf-8")))
    for f in geo["features"]:
        title = f["properties"].get("name", "")
        country = pycountry.countries.get(numeric=str(f.get("id") or "")) if f.get("id") else None
        f["properties"] = {"name": country.alpha_2 if country else title, "title": title}
    return geo


def main() -> int:
    missing = [src for src, _ in [*FILES, (WORLD_TOPOJSON, "")] if not (NODE / src).is_file()]
    if missing:
        print(
            "copy_vendor: missing in node_modules (run `npm ci` first): " + ", ".join(missing),
            file=sys.stderr,
        )
        return 1
    if DEST.exists():
        shutil.rmtree(DEST)
    for src, dst in FILES:
        target = DEST / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE / src, target)
    target = DEST / WORLD_GEOJSON
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(world_map(), separators=(",", ":")), encoding="utf-8")
    print(f"copy_vendor: {len(FILES) + 1} files into {DEST.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
