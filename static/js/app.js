// TradeCRM page behaviour: Tom Select on long dropdowns (also after htmx swaps).
(function () {
  // Forms answer 422 with their field errors and 409 for a stale version: show those answers in
  // place (htmx 2 swaps only 2xx by default). Other 4xx/5xx stay errors and are not swapped.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "409|422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
  }
  function enhance(root) {
    if (typeof TomSelect === "undefined") return;
    root.querySelectorAll("select[data-search]").forEach(function (el) {
      if (el.tomselect) return;
      var opts = { allowEmptyOption: true, maxOptions: 500 };
      if (el.multiple) opts.plugins = ["remove_button"];
      new TomSelect(el, opts);
    });
  }
  // Clocks rendered by the server keep running: [data-clock-tz] shows HH:MM in that IANA zone.
  function tick() {
    document.querySelectorAll("[data-clock-tz]").forEach(function (el) {
      try {
        el.textContent = new Intl.DateTimeFormat("en-GB", {
          hour: "2-digit", minute: "2-digit", hour12: false, timeZone: el.dataset.clockTz,
        }).format(new Date());
      } catch (e) { /* unknown zone in this browser: keep the server's value */ }
    });
  }
  setInterval(tick, 15000);
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  // afterSettle, not afterSwap: htmx copies the old attributes back onto elements whose id is
  // reused during the swap, which made a re-rendered select get a second Tom Select.
  document.addEventListener("htmx:afterSettle", function (e) { enhance(e.target); });
})();
