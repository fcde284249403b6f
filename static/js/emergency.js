// An emergency's page: follow its bulk cut as it goes. socket.js passes every console event on as a
// "liveward:event" DOM event; on this emergency's progress the page fetches itself and swaps the counts
// and the cut rows (coalesced).
(function () {
  "use strict";
  var detail = document.getElementById("emergency-detail");
  if (!detail) return;
  var timer = null;
  function refresh() {
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { if (!response.ok) throw new Error("refresh failed"); return response.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          ["#emergency-progress", "#emergency-cuts tbody", "#emergency-status"].forEach(function (selector) {
            var fresh = doc.querySelector(selector), here = document.querySelector(selector);
            if (fresh && here) here.replaceWith(fresh);
          });
        })
        .catch(function () { /* the next event tries again */ });
    }, 300);
  }
  document.addEventListener("liveward:event", function (event) {
    var frame = event.detail;
    if (frame.event === "emergency.changed" || (frame.event === "emergency.progress" && String(frame.payload.id) === detail.getAttribute("data-emergency"))) refresh();
  });
})();
