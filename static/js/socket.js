// The console's WebSocket, shared by every page (docs/console-protocol.md): one socket per tab,
// a heartbeat that shows whether the console is live, reconnection with jittered backoff (never a
// page reload), and an immediate retry when the browser comes back online or the tab is shown.
//
//   var connection = LivewardSocket.open({ onFrame: function (frame, info) { … } });
//   connection.send({ type: "resync" });   // false while the socket is not open
//   connection.syncing(true);              // the page is fetching what it missed; false when done
//
// onFrame gets every frame; for hello, info.reconnected tells that frames may have been missed.
// onState (optional) hears the connection's state when it changes.
// The indicator (#live-indicator) takes its texts from its data-text-<state> attributes: live,
// syncing (open, but the page is catching up), stale (open, but the server says its updates do not
// flow: Redis is down; pong's "feed"), down, connecting, expired, forbidden. It follows the
// heartbeat, not the close event: a dead connection can stay "open" for minutes before the browser
// notices.
//
// The server's close codes (docs/console-protocol.md): 4401, the login expired — the page stays,
// the banner (#connection-banner) asks to log in again in another tab, and the socket tries again
// when this tab is shown or focused, when "Reconnect" is pressed, and every EXPIRED_RETRY; 4403,
// this account may not use the console — said once, no retries but the button; 1001 and 1012, the
// server is going away or restarting — reconnect soon, as after any drop. A "liveward:login-ended"
// DOM event (idle.js: the session ended for inactivity) counts as a 4401.
(function () {
  "use strict";
  // A ping every PING_EVERY; a socket that answers nothing for PONG_TIMEOUT after one is dead, and so
  // is one without a hello HELLO_TIMEOUT after it was opened. Any frame counts as an answer. The
  // server answers a socket's frames in order, so a ping can wait behind an action whose media
  // server takes its full timeout (LIVEWARD_MEDIA_SERVER_TIMEOUT, 3 s by default): hence 5 s.
  var PING_EVERY = 2000, PONG_TIMEOUT = 5000, HELLO_TIMEOUT = 10000, TICK = 500, MAX_BACKOFF = 30000;
  var EXPIRED_RETRY = 15000;
  var SESSION_EXPIRED = 4401, FORBIDDEN = 4403;
  var FEED_FRAMES = { hello: true, snapshot: true, delta: true, resync_needed: true };

  function open(options) {
    var indicator = document.getElementById("live-indicator");
    var socket = null, backoff = 1000, reconnectTimer = null, everConnected = false, dropped = false;
    var greeted = false, openedAt = 0, lastHeard = 0, pingSentAt = 0, syncing = false, feedDown = false;
    var refused = null; // "expired" or "forbidden": the server said why it will not talk to us
    var banner = document.getElementById("connection-banner"), current = null;

    function setState(state) {
      if (current === state) return;
      current = state;
      if (indicator) {
        indicator.dataset.state = state;
        indicator.textContent = indicator.getAttribute("data-text-" + state) || state;
      }
      if (banner) {
        var says = banner.getAttribute("data-text-" + state);
        banner.hidden = !says;
        banner.dataset.state = state;
        if (says) banner.querySelector("[data-field=text]").textContent = says;
        var login = banner.querySelector("[data-login]");
        if (login) login.hidden = state !== "expired";
      }
      if (options.onState) options.onState(state);
    }

    function showLive() {
      setState(feedDown ? "stale" : syncing ? "syncing" : "live");
    }

    function send(frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    }

    function scheduleReconnect() {
      if (reconnectTimer) return;
      if (refused === "forbidden") return; // asking again changes nothing; the button may
      var delay = backoff * (0.75 + Math.random() * 0.5); // jitter: consoles do not reconnect in step
      backoff = Math.min(backoff * 2, MAX_BACKOFF);
      if (refused === "expired") delay = EXPIRED_RETRY;
      reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay);
    }

    function connect() {
      if (socket) return;
      if (!refused) setState(everConnected ? "down" : "connecting");
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var ws;
      try {
        ws = new WebSocket(scheme + window.location.host + "/ws/console/");
      } catch (error) {
        scheduleReconnect();
        return;
      }
      socket = ws;
      greeted = false;
      openedAt = Date.now();
      pingSentAt = 0;
      ws.onmessage = function (message) {
        if (ws !== socket) return;
        var frame;
        try { frame = JSON.parse(message.data); } catch (error) { return; }
        lastHeard = Date.now();
        var info = {};
        if (frame.type === "pong" && typeof frame.feed === "boolean") {
          feedDown = !frame.feed; // when it comes back, the server's resync_needed makes the page catch up
          if (greeted) showLive();
        } else if (FEED_FRAMES[frame.type] && feedDown) {
          feedDown = false; // numbered from Redis, or carried by it: the feed answers again
          if (greeted) showLive();
        }
        if (frame.type === "hello") {
          backoff = 1000;
          refused = null;
          info.reconnected = dropped;
          everConnected = true;
          dropped = false;
          greeted = true;
          showLive();
        }
        if (frame.type === "event") showConsoleEvent(frame);
        options.onFrame(frame, info);
        // Other scripts (the audit alerts, alerts.js) listen for every frame too.
        document.dispatchEvent(new CustomEvent("liveward:frame", { detail: { frame: frame, info: info } }));
      };
      ws.onclose = function (event) {
        if (ws !== socket) return;
        if (event.code === SESSION_EXPIRED) refused = "expired";
        else if (event.code === FORBIDDEN) refused = "forbidden";
        else if (event.code === 1001 || event.code === 1012) backoff = 1000; // a restart: back soon
        lose();
      };
    }

    // The socket closed or went silent: let it go (its late frames are ignored), show it, try again.
    function lose() {
      var dead = socket;
      socket = null;
      greeted = false;
      dropped = true;
      if (dead) {
        dead.onmessage = null;
        dead.onclose = null;
        try { dead.close(); } catch (error) { /* closing a dead socket may throw; it is gone anyway */ }
      }
      setState(refused || (everConnected ? "down" : "connecting"));
      scheduleReconnect();
    }

    function reconnectNow() {
      if (socket) return;
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      backoff = 1000;
      connect();
    }

    function heartbeat() {
      if (!socket) return;
      var now = Date.now();
      if (!greeted) {
        if (now - openedAt > HELLO_TIMEOUT) lose();
        return;
      }
      // Awaiting an answer: measured from the ping, not the tick (a background tab's timers run late).
      if (pingSentAt > lastHeard) {
        if (now - pingSentAt > PONG_TIMEOUT) lose();
        return;
      }
      if (now - pingSentAt >= PING_EVERY) {
        pingSentAt = now;
        send({ type: "ping", id: now });
      }
    }

    function setSyncing(on) {
      syncing = !!on;
      if (greeted) showLive();
    }

    connect();
    setInterval(heartbeat, TICK);
    // The idle clock (idle.js) found the login ended: say so now, as a 4401 would.
    document.addEventListener("liveward:login-ended", function () {
      refused = "expired";
      if (socket) lose();
      else setState("expired");
    });
    window.addEventListener("online", reconnectNow);
    window.addEventListener("focus", reconnectNow); // back from the tab where the login was renewed
    document.addEventListener("visibilitychange", function () { if (!document.hidden) reconnectNow(); });
    if (banner) {
      var retry = banner.querySelector("[data-reconnect]");
      if (retry) retry.addEventListener("click", reconnectNow);
    }
    return {
      send: send,
      syncing: setSyncing,
      state: function () { return current; },
    };
  }

  // Events every console shows whatever the page: the emergency banner and report surges. Each event
  // is also passed on as a "liveward:event" DOM event for the page's own script. Text only, no markup.
  function showConsoleEvent(frame) {
    if (frame.event === "emergency.changed") paintBanner(frame.payload.emergencies || []);
    else if (frame.event === "report.surge") alertSurge(frame.payload);
    document.dispatchEvent(new CustomEvent("liveward:event", { detail: frame }));
  }

  function paintBanner(emergencies) {
    var banner = document.getElementById("emergency-banner");
    if (!banner) return;
    banner.textContent = "";
    emergencies.forEach(function (emergency) {
      var line = document.createElement("p"), link = document.createElement("a");
      line.className = "emergency-line";
      line.dataset.status = emergency.status;
      link.href = banner.dataset.url.replace(/0\/$/, emergency.id + "/");
      link.textContent = (emergency.status === "active" ? banner.dataset.textActive : banner.dataset.textAwaiting) + " " + emergency.reference;
      line.appendChild(link);
      line.appendChild(document.createTextNode(": " + emergency.reason));
      banner.appendChild(line);
    });
    banner.hidden = emergencies.length === 0;
  }

  function alertSurge(payload) {
    var alerts = document.getElementById("console-alerts");
    if (!alerts) return;
    var line = document.createElement("p"), link = document.createElement("a");
    line.className = "console-alert";
    line.dataset.stream = payload.stream;
    link.href = alerts.dataset.url.replace(/0\/$/, payload.stream + "/");
    link.textContent = alerts.dataset.textSurge.replace("{count}", payload.count).replace("{minutes}", payload.minutes);
    line.appendChild(link);
    alerts.appendChild(line);
    setTimeout(function () { line.remove(); }, 60000);
  }

  window.LivewardSocket = { open: open };
})();
