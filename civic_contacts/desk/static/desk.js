// Live progress of a send on a release's page: asks the desk for the batch's counts every
// second while a send runs, and reloads the page when it ends (so the buttons match).
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || box.getAttribute("data-running") !== "yes") { return; }
  var url = box.getAttribute("data-progress");
  var bar = document.getElementById("bar");
  var said = document.getElementById("said");
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.max = data.total || 1;
        bar.value = data.sent;
        said.textContent = data.said;
        if (data.running) { window.setTimeout(tick, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 500);
}());
