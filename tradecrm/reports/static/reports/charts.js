// Report charts: every element with data-report-chart="<id of a JSON script>" becomes an ECharts
// chart. The spec comes from tradecrm/reports/dashboard.py: {type, categories?, series:[{name, data,
// color?}]} with type line / bar / hbar / stacked / pie / funnel / map. The world map (GeoJSON with
// ISO alpha-2 country names) is fetched once, only when a page has a map.
(function () {
  "use strict";
  var script = document.currentScript;
  var mapUrl = script && script.dataset.worldMap;
  var lang = document.documentElement.lang || "en";
  var fmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var compact = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });
  var charts = [];

  // counts drawn below the axis (downgrades) are negative only to be drawn there
  function num(v) {
    if (v && typeof v === "object") v = v.value;
    return typeof v === "number" ? fmt.format(Math.abs(v)) : v;
  }

  function axisOption(spec, horizontal) {
    var cat = { type: "category", data: spec.categories || [], axisLabel: { hideOverlap: true } };
    var val = { type: "value", axisLabel: { formatter: function (v) { return compact.format(Math.abs(v)); } } };
    return horizontal ? { xAxis: val, yAxis: cat } : { xAxis: cat, yAxis: val };
  }

  function option(spec) {
    var series = spec.series || [];
    var base = {
      tooltip: { trigger: "item", valueFormatter: num },
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
      legend: series.length > 1 ? { top: 0, type: "scroll" } : undefined,
    };
    switch (spec.type) {
      case "line":
        return Object.assign(base, axisOption(spec), { tooltip: { trigger: "axis", valueFormatter: num },
          series: series.map(function (s) { return { name: s.name, type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: s.data }; }) });
      case "bar":
      case "hbar":
        return Object.assign(base, axisOption(spec, spec.type === "hbar"), { tooltip: { trigger: "axis", valueFormatter: num },
          series: series.map(function (s) { return { name: s.name, type: "bar", data: s.data, itemStyle: s.color ? { color: s.color } : undefined }; }) });
      case "stacked":
        return Object.assign(base, axisOption(spec), { tooltip: { trigger: "axis", valueFormatter: num },
          series: series.map(function (s) { return { name: s.name, type: "bar", stack: "total", data: s.data, itemStyle: s.color ? { color: s.color } : undefined }; }) });
      case "pie":
        return Object.assign(base, { legend: { bottom: 0 },
          series: series.map(function (s) { return { name: s.name, type: "pie", radius: ["30%", "70%"], center: ["50%", "45%"],
                                                    data: s.data, label: { position: "inside", formatter: "{d}%", color: "#fff" } }; }) });
      case "funnel":
        return Object.assign(base, {
          tooltip: { trigger: "item", formatter: function (p) {
            var d = p.data || {}, out = p.name + ": " + fmt.format(p.value || 0);
            if (d.conversion != null) out += " · " + d.conversion + " %";
            if (d.days != null) out += " · ⌀ " + d.days + " d";
            return out;
          } },
          series: series.map(function (s) { return { name: s.name, type: "funnel", sort: "none", left: "5%", width: "90%", top: 8, bottom: 8, minSize: "30%", gap: 2, data: s.data,
                                                    label: { position: "inside", formatter: "{b}: {c}", color: "#fff", textBorderColor: "rgba(0,0,0,.35)", textBorderWidth: 2 } }; }) });
      case "map":
        var values = (series[0] && series[0].data || []).map(function (d) { return d.value; });
        return Object.assign(base, {
          tooltip: { trigger: "item", formatter: function (p) {
            return p.data ? (p.data.label || p.name) + ": " + fmt.format(p.data.value) : p.name;
          } },
          visualMap: { min: 0, max: Math.max.apply(null, values.concat([1])), left: 8, bottom: 8, calculable: true,
                       inRange: { color: ["#e0ecfb", "#206bc4"] }, formatter: function (v) { return compact.format(v); } },
          series: series.map(function (s) { return { name: s.name, type: "map", map: "world", roam: true, data: s.data,
                                                    emphasis: { label: { show: false } } }; }) });
      default:
        return base;
    }
  }

  function hasSize(el) { return el.clientWidth > 0 && el.clientHeight > 0; }

  // ECharts lays a chart out from its container's size: a map drawn (or resized) in a box of 0×0
  // (still being laid out, or hidden) ends in a singular transform and throws, so a chart is only
  // drawn once its box has a size, and only resized while it has one.
  function draw(el) {
    var node = document.getElementById(el.dataset.reportChart);
    if (!node) return;
    if (!hasSize(el)) {
      if (window.ResizeObserver) {
        var waiting = new ResizeObserver(function () {
          if (hasSize(el)) { waiting.disconnect(); draw(el); }
        });
        waiting.observe(el);
      } else {
        window.setTimeout(function () { draw(el); }, 100);
      }
      return;
    }
    var spec = JSON.parse(node.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    el.dataset.rendered = "1";
    charts.push(chart);
  }

  function start() {
    var els = Array.prototype.slice.call(document.querySelectorAll("[data-report-chart]"));
    var maps = els.filter(function (el) { return el.dataset.chartType === "map"; });
    els.filter(function (el) { return el.dataset.chartType !== "map"; }).forEach(draw);
    if (maps.length && mapUrl) {
      fetch(mapUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (geo) { echarts.registerMap("world", geo); maps.forEach(draw); });
    }
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { if (hasSize(c.getDom())) c.resize(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
