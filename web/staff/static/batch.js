// Regrade batches on an assignment's page: poll each unfinished batch's JSON and move
// its bar, without reloading. The numbers come from the server; text goes in as text.
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".batch[data-url]");
  Array.prototype.forEach.call(boxes, function (box) {
    var bar = box.querySelector("progress");
    var label = box.querySelector(".batch-label");
    var url = box.getAttribute("data-url");

    function describe(p) {
      var parts = [p.finished + " / " + p.total + " done"];
      if (p.error) { parts.push(p.error + " failed"); }
      if (p.running) { parts.push(p.running + " running"); }
      if (p.queued) { parts.push(p.queued + " waiting"); }
      return "batch " + p.batch.slice(0, 8) + ": " + parts.join(", ") + (p.complete ? " ✓" : "");
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (p) {
          bar.max = Math.max(1, p.total);
          bar.value = p.finished;
          label.textContent = describe(p);
          if (!p.complete) { setTimeout(poll, 2000); }
        })
        .catch(function () { setTimeout(poll, 10000); });
    }
    if (box.getAttribute("data-complete") !== "1") { setTimeout(poll, 2000); }
  });
})();
