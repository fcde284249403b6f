// The audits page: a run still going shows its progress, polled every two seconds; once a run
// ends the page loads again to show its outcome and findings.
(function () {
  "use strict";
  var bars = document.querySelectorAll("progress[data-run-url]");
  if (!bars.length) return;
  function poll() {
    var pending = Array.prototype.map.call(bars, function (bar) {
      return fetch(bar.dataset.runUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (run) { bar.value = run.percent; bar.textContent = run.percent + "%"; return run.finished; })
        .catch(function () { return false; });
    });
    Promise.all(pending).then(function (finished) {
      if (finished.some(Boolean)) window.location.reload();
      else setTimeout(poll, 2000);
    });
  }
  setTimeout(poll, 2000);
})();
