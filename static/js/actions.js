// Small page behaviours declared with data attributes, so that templates need no inline event
// handlers (onclick=…, hx-on…): the Content-Security-Policy allows scripts from our files only.
//   data-confirm="Question?"         on a button/link: ask first, cancel the click on "no"; on a form: ask before sending
//   data-remove-closest="form"       on a button: remove the closest matching ancestor
//   data-clear-closest="#id"         on a button: empty the closest matching ancestor
//   data-autosubmit                  on a select/input: submit its form when it changes
//   data-history-back                on a link: go back one page
//   data-change-local                on a field: its "change" does not bubble to hx-trigger="change" containers
(function () {
  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-confirm],[data-remove-closest],[data-clear-closest],[data-history-back]");
    if (!el) return;
    if (el.hasAttribute("data-confirm")) {
      if (!window.confirm(el.getAttribute("data-confirm"))) { e.preventDefault(); e.stopImmediatePropagation(); }
      return;
    }
    if (el.hasAttribute("data-history-back")) { e.preventDefault(); window.history.back(); return; }
    var target;
    if (el.hasAttribute("data-remove-closest")) {
      target = el.closest(el.getAttribute("data-remove-closest"));
      if (target) { e.preventDefault(); target.remove(); }
    } else {
      target = el.closest(el.getAttribute("data-clear-closest"));
      if (target) { e.preventDefault(); target.innerHTML = ""; }
    }
  }, true);
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });
  // Bubbling stops at the field itself: its own listeners still run, containers never see it.
  function local(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-change-local]").forEach(function (el) {
      if (el._changeLocal) return;
      el._changeLocal = true;
      el.addEventListener("change", function (e) { e.stopPropagation(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { local(document); });
  document.addEventListener("htmx:afterSettle", function (e) { local(e.target); });
})();
// <form data-confirm="Question?">: ask before it is sent.
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (form && form.hasAttribute && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
    e.preventDefault();
    e.stopImmediatePropagation();
  }
}, true);
