// Live status of one submission: polls its JSON endpoint until it is graded.
// State lives on the server, so a reload simply starts polling again.
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var shown = box.getAttribute("data-status");
  var statusEl = document.getElementById("live-status");
  var detailEl = document.getElementById("live-detail");
  var delay = 1000;

  function detail(s) {
    if (s.status === "queued" && s.position) { return "(position " + s.position + " in the queue)"; }
    if (s.status === "running") { return s.progress || "starting"; }
    return "";
  }

  // "check 7/45: relu" or "training epoch 3/10" fill the bar; anything else leaves it moving.
  function fill(progress) {
    var bar = document.getElementById("live-bar");
    var m = /(\d+)\/(\d+)/.exec(progress || "");
    if (!bar) { return; }
    if (m && +m[2] > 0) { bar.max = +m[2]; bar.value = +m[1]; } else { bar.removeAttribute("value"); }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        statusEl.textContent = s.status;   // textContent: never parsed as HTML
        detailEl.textContent = detail(s);
        fill(s.status === "running" ? s.progress : "");
        if (s.status === "graded" || s.status === "error") {
          if (shown !== s.status) { window.location.reload(); }
          return;
        }
        // Far back in the queue nothing changes fast: poll less, so a class at the deadline
        // (300 pages open) costs the server little; running, every second or so.
        delay = s.status === "queued" ? Math.min(10000, 1500 + 100 * (s.position || 0)) : 1000;
        setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000);  // server away: back off, keep trying
        setTimeout(poll, delay);
      });
  }

  if (shown === "running") { fill(detailEl.textContent); }
  if (shown === "queued" || shown === "running") { setTimeout(poll, 500); }
})();
