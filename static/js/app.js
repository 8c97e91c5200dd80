// TradeCRM page behaviour: Tom Select on long dropdowns (also after htmx swaps).
(function () {
  function enhance(root) {
    if (typeof TomSelect === "undefined") return;
    root.querySelectorAll("select[data-search]").forEach(function (el) {
      if (el.tomselect) return;
      var opts = { allowEmptyOption: true, maxOptions: 500 };
      if (el.multiple) opts.plugins = ["remove_button"];
      new TomSelect(el, opts);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (e) { enhance(e.target); });
})();
