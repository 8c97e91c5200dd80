// The pipeline board: drag cards between and within columns (SortableJS); each drop POSTs the
// move with htmx. The answer replaces the card and refreshes the two column heads; a refused move
// (422) or a stale version (409) answers the whole board again. Dropping into a lost column first
// asks for the loss reason.
(function () {
  function board() { return document.getElementById("board"); }

  function cardNeighbour(el, direction) {
    var n = el[direction];
    while (n && !(n.classList && n.classList.contains("board-card"))) n = n[direction];
    return n;
  }

  function reload() {
    var b = board();
    if (b) htmx.ajax("GET", b.dataset.url, { target: "#board", swap: "outerHTML" });
  }

  function send(card, values) {
    var b = board();
    var url = b.dataset.moveBase.replace("/0/", "/" + card.dataset.id + "/");
    htmx.ajax("POST", url, {
      target: card, swap: "outerHTML", values: values, headers: { "X-CSRFToken": b.dataset.csrf },
    });
  }

  function askLossReason(card, values) {
    var dialog = document.getElementById("loss-dialog");
    if (!dialog || !dialog.showModal) { send(card, values); return; }
    var form = dialog.querySelector("form");
    form.reset();
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") { reload(); return; }
      values.loss_reason = form.elements.loss_reason.value;
      values.loss_note = form.elements.loss_note.value;
      send(card, values);
    };
    dialog.returnValue = "";
    dialog.showModal();
  }

  function dropped(evt) {
    var card = evt.item;
    var list = evt.to;
    if (evt.from === list && evt.oldIndex === evt.newIndex) return;
    var before = cardNeighbour(card, "previousElementSibling");
    var after = cardNeighbour(card, "nextElementSibling");
    var values = {
      stage: list.dataset.stage,
      version: card.dataset.version,
      before: before ? before.dataset.id : "",
      after: after ? after.dataset.id : "",
      owner: board().dataset.owner || "",
    };
    if (list.dataset.kind === "lost" && evt.from !== list) askLossReason(card, values);
    else send(card, values);
  }

  function init() {
    var b = board();
    if (!b || typeof Sortable === "undefined") return;
    b.querySelectorAll(".board-cards").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: "board", animation: 120, draggable: ".board-card", ghostClass: "board-ghost",
        onEnd: dropped,
      });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
