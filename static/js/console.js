// The console's live connection: one WebSocket per tab, a heartbeat that shows whether the
// console is live, and a reload of the stream list (coalesced) when streams open or end.
(function () {
  "use strict";
  var indicator = document.getElementById("live-indicator");
  var countEl = document.getElementById("live-count");
  var socket = null, backoff = 500, refreshTimer = null, pingTimer = null, lastPong = 0;
  var texts = { live: indicator ? indicator.getAttribute("data-live") || "在线" : "", down: "连接中断" };
  if (document.documentElement.lang.indexOf("en") === 0) { texts = { live: "Live", down: "Disconnected" }; }

  function setState(state) {
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.textContent = state === "live" ? texts.live : state === "down" ? texts.down : "…";
  }
  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      fetch(window.location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("#streams tbody"), here = document.querySelector("#streams tbody");
        if (fresh && here) here.replaceWith(fresh);
        var freshCount = doc.getElementById("live-count");
        if (freshCount && countEl) countEl.textContent = freshCount.textContent;
      });
    }, 500);
  }
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/console/");
    socket.onopen = function () { backoff = 500; lastPong = Date.now(); setState("live"); };
    socket.onmessage = function (message) {
      var frame = JSON.parse(message.data);
      if (frame.type === "pong" || frame.type === "hello") { lastPong = Date.now(); }
      if (frame.type === "hello" && countEl) { countEl.textContent = frame.live; }
      if (frame.type === "event") { scheduleRefresh(); }
    };
    socket.onclose = function () {
      setState("down");
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }
  pingTimer = setInterval(function () {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "ping", id: Date.now() }));
      if (Date.now() - lastPong > 15000) { setState("down"); socket.close(); }
    }
  }, 5000);
  if (indicator) connect();
})();
