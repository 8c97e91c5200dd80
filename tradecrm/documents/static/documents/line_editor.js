// The quotation / proforma line editor's product picker: Tom Select searching the catalogue's
// picker endpoint; picking a product asks the server for the editor with that product's row added.
(function () {
  function label(item) {
    return item.sku + " · " + item.name_en + (item.name_zh ? " · " + item.name_zh : "");
  }
  function init() {
    var el = document.querySelector("select[data-product-picker]");
    if (!el || el.tomselect || typeof TomSelect === "undefined" || !window.htmx) return;
    var ts = new TomSelect(el, {
      valueField: "id", labelField: "label", searchField: ["label"], maxOptions: 50, preload: "focus",
      loadThrottle: 250,
      load: function (q, done) {
        fetch(el.dataset.pickerUrl + "?limit=30&q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (j) { done(j.items.map(function (i) { return { id: i.id, label: label(i) }; })); })
          .catch(function () { done(); });
      },
      onChange: function (value) {
        if (!value) return;
        // The select is the source: its hx-sync queues this request behind a field change still
        // on its way (and its hx-include sends the whole form), so neither answer overwrites the other.
        htmx.ajax("POST", el.dataset.editorUrl, {
          source: el, target: "#line-editor", swap: "outerHTML", values: { add_product: value },
        });
        ts.clear(true);
      },
    });
  }
  // Deferred like the vendor scripts but before them in the page: Tom Select and htmx exist only
  // once the document is parsed and every deferred script has run.
  if (document.readyState === "complete") init();
  else document.addEventListener("DOMContentLoaded", init);
})();
