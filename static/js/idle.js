// The idle clock of a staff login (docs/security.md, "Staff login"). The server ends a session after
// LIVEWARD_IDLE_MINUTES without activity; activity is a page load, a form, or a key press or click
// that this script reports (POST /accounts/session/, at most every REPORT_EVERY). The wall's own
// WebSocket traffic and the pages' background refreshes do not count. A minute before the end it
// shows #idle-warning; any key or click (or "Stay logged in") keeps the login. When the login ends
// the page stays: this script tells socket.js ("liveward:login-ended"), which asks to log in again
// as for a 4401 (the server closes the socket with 4401 too).
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box) return;
  var statusUrl = box.dataset.statusUrl;
  var idleMs = (parseInt(box.dataset.idleSeconds, 10) || 1800) * 1000;
  var WARNING_MS = 60000, REPORT_EVERY = 15000, TICK = 1000;
  var deadline = Date.now() + idleMs; // this page's load was activity
  var lastReport = Date.now(), pending = false, asking = false, reportAfter = false, ended = false;

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    return (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  }

  // Ask the server how long the login has left; POST also records activity.
  function ask(method) {
    if (asking) {
      // A key press while a status check is on its way is reported when that answer is in, not dropped.
      if (method === "POST") reportAfter = true;
      return;
    }
    asking = true;
    var options = { method: method, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } };
    if (method === "POST") options.headers["X-CSRFToken"] = csrfToken();
    fetch(statusUrl, options)
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (!status.logged_in) {
          end();
          return;
        }
        deadline = Date.now() + status.seconds_left * 1000;
        if (deadline - Date.now() > WARNING_MS) box.hidden = true;
      })
      .catch(function () { /* offline: the socket shows it; ask again on the next tick */ })
      .then(function () {
        asking = false;
        if (reportAfter) {
          reportAfter = false;
          ask("POST");
        }
      });
  }

  function report() {
    pending = false;
    lastReport = Date.now();
    ask("POST");
  }

  function end() {
    ended = true;
    box.hidden = true;
    // The page stays; the socket shows the login as expired and asks to log in again (socket.js).
    document.dispatchEvent(new CustomEvent("liveward:login-ended"));
  }

  function onActivity() {
    if (ended) return;
    if (!box.hidden) report(); // warned: keep the login now
    else pending = true;
  }

  function tick() {
    if (ended) return;
    var now = Date.now();
    if (pending && now - lastReport >= REPORT_EVERY) report();
    var left = deadline - now;
    if (left <= 0) ask("GET"); // another tab may have kept it; if not, the server ends it now
    else if (left <= WARNING_MS && box.hidden) {
      box.hidden = false;
      ask("GET"); // another tab's activity counts: hide the warning if so
    }
  }

  // Logged in again (in another tab) and the socket is back: a new login, a new idle clock.
  document.addEventListener("liveward:frame", function (event) {
    if (!ended || event.detail.frame.type !== "hello") return;
    ended = false;
    deadline = Date.now() + idleMs;
    ask("GET");
  });

  document.addEventListener("keydown", onActivity, true);
  document.addEventListener("pointerdown", onActivity, true);
  var stay = box.querySelector("[data-stay]");
  if (stay) stay.addEventListener("click", report);
  setInterval(tick, TICK);
})();
