// Import screens: refuse a file over the limit before uploading it, pick "contacts" for a vCard,
// show that a long upload or dry run is under way, and grey out the columns left unmapped.
(function () {
  function busy(form) {
    form.addEventListener("submit", function (e) {
      var button = e.submitter || form.querySelector("button[type=submit]");
      if (form.dataset.sending) { e.preventDefault(); return; }
      form.dataset.sending = "1";
      if (button && button.dataset.busyLabel) {
        // the clicked button's name/value must still be sent: keep it enabled, only relabel
        button.classList.add("btn-loading");
        button.setAttribute("aria-busy", "true");
      }
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        if (b !== button) b.disabled = true;
      });
    });
  }

  function upload(form) {
    var input = form.querySelector("input[type=file]");
    var feedback = form.querySelector("[data-testid=error-file]");
    var entity = form.querySelector("#id_entity");
    function check() {
      var file = input.files && input.files[0];
      var max = parseInt(input.dataset.maxBytes || "0", 10);
      var tooBig = !!(file && max && file.size > max);
      input.classList.toggle("is-invalid", tooBig);
      input.setCustomValidity(tooBig ? input.dataset.tooBig : "");
      if (feedback) {
        feedback.textContent = tooBig ? input.dataset.tooBig : "";
        feedback.classList.toggle("d-block", tooBig);
      }
      if (file && /\.vcf$/i.test(file.name) && entity && entity.value !== "contacts" &&
          entity.querySelector("option[value=contacts]")) {
        entity.value = "contacts";
        entity.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return !tooBig;
    }
    input.addEventListener("change", check);
    form.addEventListener("submit", function (e) {
      if (!check()) { e.preventDefault(); e.stopImmediatePropagation(); }
    }, true);
    busy(form);
  }

  function mapping(form) {
    form.querySelectorAll("select[name^=col_]").forEach(function (s) {
      s.addEventListener("change", function () {
        var row = s.closest("tr");
        if (row) row.classList.toggle("text-secondary", !s.value);
      });
    });
    busy(form);
  }

  function init() {
    document.querySelectorAll("form[data-import-upload]").forEach(upload);
    document.querySelectorAll("form[data-import-mapping]").forEach(mapping);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
