// The console on every page but the wall: the shared WebSocket (socket.js) with its live indicator,
// a refresh of the stream list when streams open or end, and relative "live since" times. Texts
// come from the page, already translated.
(function () {
  "use strict";
  var indicator = document.getElementById("live-indicator");
  var refreshTimer = null;
  var lang = document.documentElement.lang || "zh-hans";

  // The language menu submits itself (no inline handlers).
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // --- relative times ---------------------------------------------------------------------
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  function updateTimes(root) {
    if (!relative) return;
    Array.prototype.forEach.call((root || document).querySelectorAll("time.relative"), function (el) {
      var seconds = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      if (isNaN(seconds)) return;
      var abs = Math.abs(seconds);
      el.textContent = abs < 60 ? relative.format(Math.min(seconds, 0), "second")
        : abs < 3600 ? relative.format(Math.round(seconds / 60), "minute")
        : abs < 86400 ? relative.format(Math.round(seconds / 3600), "hour")
        : relative.format(Math.round(seconds / 86400), "day");
    });
  }

  // --- the stream list: fetch this page again and swap the table body (coalesced) -------------
  // Other live lists (the verification review queue) mark their parts data-live-refresh, with an id.
  var LIVE_PARTS = "[data-live-refresh][id]";
  function scheduleRefresh() {
    if (refreshTimer || !(document.getElementById("streams") || document.querySelector(LIVE_PARTS))) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error("refresh failed");
          return response.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("#streams tbody"), here = document.querySelector("#streams tbody");
          if (fresh && here) { here.replaceWith(fresh); updateTimes(fresh); }
          var freshCount = doc.getElementById("live-count"), count = document.getElementById("live-count");
          if (freshCount && count) count.textContent = freshCount.textContent;
          Array.prototype.forEach.call(document.querySelectorAll(LIVE_PARTS), function (part) {
            var replacement = doc.getElementById(part.id);
            if (replacement) { part.replaceWith(replacement); updateTimes(replacement); }
          });
        })
        .catch(function () { /* the next event or reconnect tries again */ });
    }, 400);
  }

  // --- the WebSocket --------------------------------------------------------------------------
  function onFrame(frame, info) {
    if (frame.type === "hello") {
      var count = document.getElementById("live-count");
      if (count) count.textContent = frame.live;
      if (info.reconnected) scheduleRefresh(); // events may have been missed while we were away
    } else if (frame.type === "event" || frame.type === "resync_needed") {
      scheduleRefresh(); // resync_needed: events were lost on the server's side
    }
  }

  updateTimes();
  setInterval(updateTimes, 30000);
  if (indicator) window.LivewardSocket.open({ onFrame: onFrame });
})();
