// The console's WebSocket, shared by every page (docs/console-protocol.md): one socket per tab,
// a heartbeat that shows whether the console is live, reconnection with jittered backoff (never a
// page reload), and an immediate retry when the browser comes back online or the tab is shown.
//
//   var connection = LivewardSocket.open({ onFrame: function (frame, info) { … } });
//   connection.send({ type: "resync" });   // false while the socket is not open
//
// onFrame gets every frame; for hello, info.reconnected tells that frames may have been missed.
// The indicator (#live-indicator) takes its texts from its data-text-<state> attributes.
(function () {
  "use strict";
  var PING_EVERY = 10000, PONG_TIMEOUT = 25000, MAX_BACKOFF = 30000;

  function open(options) {
    var indicator = document.getElementById("live-indicator");
    var socket = null, backoff = 1000, reconnectTimer = null, lastHeard = 0, everConnected = false, dropped = false;

    function setState(state) {
      if (!indicator || indicator.dataset.state === state) return;
      indicator.dataset.state = state;
      indicator.textContent = indicator.getAttribute("data-text-" + state) || state;
    }

    function send(frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    }

    function scheduleReconnect() {
      if (reconnectTimer) return;
      var delay = backoff * (0.75 + Math.random() * 0.5); // jitter: consoles do not reconnect in step
      backoff = Math.min(backoff * 2, MAX_BACKOFF);
      reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay);
    }

    function connect() {
      if (socket && socket.readyState <= WebSocket.OPEN) return;
      setState(everConnected ? "down" : "connecting");
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
        lastHeard = Date.now();
        var info = {};
        if (frame.type === "hello") {
          backoff = 1000;
          info.reconnected = dropped;
          everConnected = true;
          dropped = false;
          setState("live");
        }
        options.onFrame(frame, info);
      };
      socket.onclose = function () {
        socket = null;
        dropped = true;
        if (everConnected) setState("down");
        scheduleReconnect();
      };
    }

    function reconnectNow() {
      if (socket) return;
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      backoff = 1000;
      connect();
    }

    function heartbeat() {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      if (Date.now() - lastHeard > PONG_TIMEOUT) { socket.close(); return; } // onclose marks it down
      send({ type: "ping", id: Date.now() });
    }

    connect();
    setInterval(heartbeat, PING_EVERY);
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) reconnectNow(); });
    return { send: send };
  }

  window.LivewardSocket = { open: open };
})();
