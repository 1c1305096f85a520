// Live progress of the sends on a release's page: each box with data-running="yes" asks the
// desk for its counts every second while its send runs, and the page reloads when one ends
// (so the buttons match what is left).
(function () {
  "use strict";
  function follow(box) {
    var url = box.getAttribute("data-progress");
    var bar = box.querySelector("progress");
    var said = box.querySelector(".said-progress");
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
  }
  var boxes = document.querySelectorAll(".live[data-running='yes']");
  for (var i = 0; i < boxes.length; i += 1) { follow(boxes[i]); }
}());
