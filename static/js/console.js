// The console in the browser: one WebSocket per tab with a heartbeat that shows whether the console
// is live (reconnecting with backoff, never reloading the page), a refresh of the stream list when
// streams open or end, and relative "live since" times. Texts come from the page, already translated.
(function () {
  "use strict";
  var PING_EVERY = 10000, PONG_TIMEOUT = 25000, MAX_BACKOFF = 30000;
  var indicator = document.getElementById("live-indicator");
  var socket = null, backoff = 1000, reconnectTimer = null, refreshTimer = null, lastPong = 0, wasDown = false;
  var lang = document.documentElement.lang || "zh-hans";

  // The language menu submits itself (no inline handlers).
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  function setState(state) {
    if (!indicator || indicator.dataset.state === state) return;
    indicator.dataset.state = state;
    indicator.textContent = indicator.getAttribute("data-text-" + state) || state;
  }

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
  function scheduleRefresh() {
    if (refreshTimer || !document.getElementById("streams")) return;
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
        })
        .catch(function () { /* the next event or reconnect tries again */ });
    }, 400);
  }

  // --- the WebSocket --------------------------------------------------------------------------
  function scheduleReconnect() {
    if (reconnectTimer) return;
    var delay = backoff * (0.75 + Math.random() * 0.5); // jitter: consoles do not reconnect in step
    backoff = Math.min(backoff * 2, MAX_BACKOFF);
    reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay);
  }

  function connect() {
    if (socket && socket.readyState <= WebSocket.OPEN) return;
    setState(wasDown ? "down" : "connecting");
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + "/ws/console/");
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (error) { return; }
      lastPong = Date.now();
      if (frame.type === "hello") {
        backoff = 1000;
        setState("live");
        var count = document.getElementById("live-count");
        if (count) count.textContent = frame.live;
        if (wasDown) scheduleRefresh(); // events may have been missed while we were away
        wasDown = false;
      } else if (frame.type === "event") {
        scheduleRefresh();
      }
    };
    socket.onclose = function () {
      socket = null;
      wasDown = true;
      setState("down");
      scheduleReconnect();
    };
  }

  function heartbeat() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastPong > PONG_TIMEOUT) { socket.close(); return; } // onclose marks it down
    socket.send(JSON.stringify({ type: "ping", id: Date.now() }));
  }

  function reconnectNow() {
    if (socket) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    backoff = 1000;
    connect();
  }

  updateTimes();
  setInterval(updateTimes, 30000);
  if (indicator) {
    connect();
    setInterval(heartbeat, PING_EVERY);
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) reconnectNow(); });
  }
})();
