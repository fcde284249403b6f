// The report queue and a report's page: the shared WebSocket (socket.js), each report's countdown to
// its first-response deadline, and a refresh of the list when a report arrives, changes or turns
// overdue (docs/console-protocol.md, report events). Texts come from the page, already translated.
(function () {
  "use strict";
  var refreshTimer = null;

  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  function tick() {
    Array.prototype.forEach.call(document.querySelectorAll(".countdown[data-respond-by]"), function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-respond-by")) - Date.now()) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) {
        el.textContent = el.getAttribute("data-text-overdue") || "!";
        el.classList.add("overdue");
        return;
      }
      var minutes = Math.floor(left / 60), seconds = left % 60;
      el.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      el.classList.toggle("urgent", left <= 30);
    });
  }

  // Fetch this page again and swap what changed: the queue's rows and count, or the report's page.
  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error("refresh failed");
          return response.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          ["#reports tbody", "#open-report-count", "#report-status"].forEach(function (selector) {
            var fresh = doc.querySelector(selector), here = document.querySelector(selector);
            if (fresh && here) here.replaceWith(fresh);
          });
          tick();
        })
        .catch(function () { /* the next event or reconnect tries again */ });
    }, 250);
  }

  function onFrame(frame, info) {
    if (frame.type === "hello" && info.reconnected) scheduleRefresh();
    else if (frame.type === "resync_needed") scheduleRefresh();
    else if (frame.type === "event" && /^report\./.test(frame.event)) {
      var detail = document.getElementById("report-detail");
      if (!detail || String(frame.payload.id) === detail.getAttribute("data-report")) scheduleRefresh();
    }
  }

  tick();
  setInterval(tick, 1000);
  if (document.getElementById("live-indicator")) window.LivewardSocket.open({ onFrame: onFrame });
})();
