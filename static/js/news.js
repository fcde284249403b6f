// The news review (docs/news.md): the queue of applications and held comments, live over the console
// WebSocket (news.resync → news.snapshot, then `event` frames), decisions by click or key; on an
// application page, the decision keys press the page's buttons. Texts come from the page, translated.
(function () {
  "use strict";

  // --- the application page: keys press the decision buttons ------------------------------------
  var decideForm = document.getElementById("decide-form");
  if (decideForm) {
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "textarea" || tag === "input" || tag === "select") return;
      var button = decideForm.querySelector('button[data-key="' + event.key + '"]');
      if (!button) return;
      event.preventDefault();
      var note = decideForm.querySelector("textarea[name=note]");
      if (["reject", "return", "revoke"].indexOf(button.value) >= 0 && note && !note.value.trim()) {
        note.focus(); // these decisions need a note; the key again (or Enter on the button) sends it
        note.dataset.pending = button.value;
        return;
      }
      button.click();
    });
  }

  var configElement = document.getElementById("news-config");
  if (!configElement) return;
  var config = JSON.parse(configElement.textContent);
  var T = config.strings;
  var OPEN = ["submitted", "recommended", "returned"];
  var queue = document.getElementById("news-queue");
  var heldList = document.getElementById("held-comments");
  var statusLine = document.getElementById("news-status");
  var decideTemplate = document.getElementById("decide-template");
  var byKey = {};
  config.decisions.forEach(function (decision) { byKey[decision.key] = decision; });

  var rows = new Map(), comments = new Map(), pending = new Map(), results = new Map();
  var focusedId = null, form = null, counter = 0;
  config.rows.forEach(function (row) { rows.set(row.id, row); });

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (match, name) { return values && values[name] != null ? values[name] : ""; });
  }
  // Times in the console's zone (the page's server-drawn times are in it too), whatever the
  // browser's own zone: 00:08 in Beijing stays 00:08 in a browser set to UTC.
  var zoneParts = null;
  try {
    zoneParts = new Intl.DateTimeFormat("en-CA", {
      timeZone: config.timeZone || undefined, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23",
    });
  } catch (error) { zoneParts = null; }
  function time(iso) {
    var d = new Date(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (zoneParts && zoneParts.formatToParts) {
      var part = {};
      zoneParts.formatToParts(d).forEach(function (p) { part[p.type] = p.value; });
      return part.month + "-" + part.day + " " + part.hour + ":" + part.minute;
    }
    return two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  // --- rendering ----------------------------------------------------------------------------------
  // How pressing an undecided application is (console/views/news.py, window_urgency, does the same):
  // its window already open, or opening within config.soonMinutes.
  function urgencyOf(row, now) {
    if (OPEN.indexOf(row.status) < 0) return null;
    var start = Date.parse(row.window_start), end = Date.parse(row.window_end);
    if (end <= now) return null;
    if (start <= now) return { kind: "open", text: fmt(T.urgency_open, { minutes: Math.max(1, Math.floor((now - start) / 60000)) }) };
    var minutes = Math.max(1, Math.ceil((start - now) / 60000));
    if (minutes <= config.soonMinutes) return { kind: "soon", text: fmt(T.urgency_soon, { minutes: minutes }) };
    return null;
  }
  function paintUrgency(li, row, now) {
    var urgency = urgencyOf(row, now);
    var tag = li.querySelector('[data-field="urgency"]');
    if (urgency) { li.dataset.urgency = urgency.kind; tag.textContent = urgency.text; tag.hidden = false; }
    else { delete li.dataset.urgency; tag.textContent = ""; tag.hidden = true; }
  }
  // Minutes pass: the labels follow in place, without redrawing the rows (a focused button keeps its focus).
  window.setInterval(function () {
    var now = Date.now();
    rows.forEach(function (row) {
      var li = document.getElementById("application-" + row.id);
      if (li) paintUrgency(li, row, now);
    });
  }, 30000);

  function renderQueue() {
    var now = Date.now();
    var open = Array.from(rows.values()).filter(function (row) {
      return OPEN.indexOf(row.status) >= 0 || results.has(row.id) || (row.status === "approved" && Date.parse(row.window_end) > now);
    });
    open.sort(function (a, b) { return a.window_start < b.window_start ? -1 : a.window_start > b.window_start ? 1 : a.id - b.id; });
    var keepForm = form && form.parentNode ? form : null;
    queue.textContent = "";
    if (!open.length) {
      var empty = document.createElement("li");
      empty.className = "news-empty muted"; empty.id = "news-empty"; empty.textContent = T.empty;
      queue.appendChild(empty);
    }
    open.forEach(function (row) {
      var li = document.createElement("li");
      li.className = "news-row"; li.id = "application-" + row.id; li.tabIndex = 0;
      li.dataset.id = row.id; li.dataset.status = row.status;
      var main = document.createElement("div");
      main.className = "news-main";
      var head = document.createElement("p");
      head.className = "news-head";
      var link = document.createElement("a");
      link.className = "news-title"; link.href = config.applicationUrl.replace("/0/", "/" + row.id + "/");
      link.textContent = row.title; link.tabIndex = -1; // the row is the tab stop; Enter on it opens this
      var status = document.createElement("span");
      status.className = "tag status-" + row.status; status.dataset.field = "status"; status.textContent = row.status_label;
      var urgencyTag = document.createElement("span");
      urgencyTag.className = "urgency"; urgencyTag.dataset.field = "urgency";
      head.append(link, " ", status, " ", urgencyTag);
      var when = document.createElement("p");
      when.className = "news-meta";
      when.textContent = time(row.window_start) + "–" + time(row.window_end) + " · " + row.publisher.name + " · " +
        fmt(T.credit, { level: row.publisher.credit_level }) + " · " + row.origin_label +
        (row.sources.length ? " · " + T.sources + ": " + row.sources.map(function (s) { return s.name; }).join("、") : "");
      var record = document.createElement("p");
      record.className = "news-meta news-record";
      var counting = row.licences.filter(function (licence) { return licence.counts; });
      record.textContent = (counting.length
        ? counting.map(function (licence) { return fmt(T.licence, { number: licence.number, until: licence.valid_until }); }).join("、")
        : T.no_licence) + (row.news_streams !== null ? " · " + fmt(T.news_streams, { count: row.news_streams }) : "");
      if (!counting.length) record.dataset.alert = "1";
      main.append(head, when, record);
      li.appendChild(main);
      var offered = config.decisions.filter(function (decision) { return decision.from_statuses.indexOf(row.status) >= 0; });
      if (offered.length) {
        var buttons = document.createElement("div");
        buttons.className = "news-buttons"; buttons.setAttribute("role", "group"); buttons.setAttribute("aria-label", T.decisions_label);
        offered.forEach(function (decision) {
          var button = document.createElement("button");
          button.type = "button"; button.dataset.decision = decision.kind;
          var key = document.createElement("kbd"); key.textContent = decision.key;
          button.append(decision.label + " ", key);
          buttons.appendChild(button);
        });
        li.appendChild(buttons);
      }
      paintUrgency(li, row, now);
      var result = document.createElement("p");
      result.className = "news-result"; result.dataset.field = "result"; result.setAttribute("role", "status");
      var shown = results.get(row.id);
      if (shown) { result.textContent = shown.text; result.dataset.kind = shown.kind; }
      li.appendChild(result);
      if (keepForm && Number(keepForm.dataset.id) === row.id) li.appendChild(keepForm);
      li.addEventListener("click", function (event) { if (event.target === li) focusRow(row.id); });
      queue.appendChild(li);
    });
    document.getElementById("news-count").textContent = open.filter(function (row) { return OPEN.indexOf(row.status) >= 0; }).length;
    if (focusedId !== null) {
      var again = document.getElementById("application-" + focusedId);
      if (again) { again.classList.add("focused"); if (!form) again.focus({ preventScroll: true }); }
    }
  }

  function renderComments() {
    heldList.textContent = "";
    if (!comments.size) {
      var empty = document.createElement("li"); empty.className = "muted"; empty.id = "comments-empty"; empty.textContent = T.no_comments;
      heldList.appendChild(empty);
    }
    comments.forEach(function (comment) {
      var li = document.createElement("li");
      li.className = "comment-row"; li.id = "comment-" + comment.id; li.tabIndex = 0; li.dataset.id = comment.id;
      var main = document.createElement("div"); main.className = "news-main";
      var text = document.createElement("p"); text.className = "comment-text"; text.textContent = comment.text;
      var meta = document.createElement("p"); meta.className = "news-meta"; meta.textContent = comment.stream_title + " · " + comment.viewer_id;
      main.append(text, meta);
      var buttons = document.createElement("div"); buttons.className = "news-buttons";
      [["release", T.release, "l"], ["reject", T.reject, "x"]].forEach(function (triple) {
        var button = document.createElement("button");
        button.type = "button"; button.dataset.comment = triple[0];
        var key = document.createElement("kbd"); key.textContent = triple[2];
        button.append(triple[1] + " ", key);
        button.addEventListener("click", function () { decideComment(comment.id, triple[0]); });
        buttons.appendChild(button);
      });
      li.append(main, buttons);
      heldList.appendChild(li);
    });
    document.getElementById("held-count").textContent = comments.size;
  }

  // --- focus and keys -----------------------------------------------------------------------------
  function visibleIds() {
    return Array.prototype.map.call(queue.querySelectorAll(".news-row"), function (li) { return Number(li.dataset.id); });
  }
  function focusRow(id, options) {
    Array.prototype.forEach.call(queue.querySelectorAll(".news-row.focused"), function (li) { li.classList.remove("focused"); });
    focusedId = id;
    var li = document.getElementById("application-" + id);
    if (li) { li.classList.add("focused"); if (!(options && options.keepFocus)) li.focus(); }
  }
  // The decision buttons beside the keys (the page's own and the redrawn ones).
  queue.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-decision]");
    if (!button) return;
    var id = Number(button.closest(".news-row").dataset.id);
    var decision = config.decisions.filter(function (d) { return d.kind === button.dataset.decision; })[0];
    if (!decision) return;
    focusRow(id, { keepFocus: true });
    openForm(id, decision);
  });
  // Tab (or a click) into a row or one of its buttons makes it the row the keys act on.
  queue.addEventListener("focusin", function (event) {
    var li = event.target.closest && event.target.closest(".news-row");
    if (li && Number(li.dataset.id) !== focusedId) focusRow(Number(li.dataset.id), { keepFocus: true });
  });
  function move(step) {
    var ids = visibleIds();
    if (!ids.length) return;
    var index = ids.indexOf(focusedId);
    index = index < 0 ? (step > 0 ? 0 : ids.length - 1) : Math.max(0, Math.min(ids.length - 1, index + step));
    focusRow(ids[index]);
  }

  function openForm(id, decision) {
    closeForm();
    var li = document.getElementById("application-" + id);
    if (!li) return;
    form = decideTemplate.content.firstElementChild.cloneNode(true);
    form.dataset.id = id; form.dataset.decision = decision.kind;
    form.querySelector(".decide-title").textContent = decision.label + " · " + rows.get(id).title;
    var note = form.querySelector("input[name=note]");
    note.placeholder = decision.note_required ? T.note_required : T.note;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (decision.note_required && !note.value.trim()) { note.focus(); return; }
      sendDecision(id, decision, note.value);
    });
    form.querySelector("[data-cancel]").addEventListener("click", function () { closeForm(); focusRow(id); });
    li.appendChild(form);
    note.focus();
  }
  function closeForm() { if (form && form.parentNode) form.parentNode.removeChild(form); form = null; }

  function showResult(id, text, kind) {
    results.set(id, { text: text, kind: kind });
    var li = document.getElementById("application-" + id);
    var result = li && li.querySelector('[data-field="result"]');
    if (result) { result.textContent = text; result.dataset.kind = kind; }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (form && event.key === "Escape") { var id = Number(form.dataset.id); closeForm(); focusRow(id); return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var comment = event.target.closest && event.target.closest(".comment-row");
    if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); }
    else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); }
    else if (comment && (event.key === "l" || event.key === "x")) {
      event.preventDefault(); decideComment(Number(comment.dataset.id), event.key === "l" ? "release" : "reject");
    } else if (event.key === "Enter" && focusedId !== null && event.target.classList.contains("news-row")) {
      event.preventDefault(); window.location.href = config.applicationUrl.replace("/0/", "/" + focusedId + "/");
    } else if (byKey[event.key] && focusedId !== null) {
      event.preventDefault(); openForm(focusedId, byKey[event.key]);
    }
  });

  // --- the socket (socket.js: heartbeat, reconnect with backoff, live indicator) ------------------
  var connection = null;

  function send(frame) {
    return connection !== null && connection.send(frame);
  }
  function sendDecision(id, decision, note) {
    var requestId = "news-" + Date.now().toString(36) + "-" + (++counter);
    pending.set(requestId, { id: id, kind: "application" });
    closeForm();
    showResult(id, "…", "busy");
    if (!send({ type: "news.decide", request_id: requestId, application: id, decision: decision.kind, note: note })) {
      pending.delete(requestId);
      showResult(id, fmt(T.error_other, { code: "offline" }), "error");
    }
    focusRow(id);
  }
  function decideComment(id, decision) {
    var requestId = "comment-" + Date.now().toString(36) + "-" + (++counter);
    pending.set(requestId, { id: id, kind: "comment" });
    send({ type: "comment.decide", request_id: requestId, comment: id, decision: decision });
  }

  function handle(frame) {
    if (frame.type === "hello" || frame.type === "resync_needed") {
      // resync_needed: events were lost on the server's side (docs/console-protocol.md).
      if (send({ type: "news.resync" })) connection.syncing(true);
    } else if (frame.type === "news.snapshot") {
      connection.syncing(false);
      rows = new Map(); comments = new Map();
      frame.applications.forEach(function (row) { rows.set(row.id, row); });
      frame.comments.forEach(function (comment) { comments.set(comment.id, comment); });
      statusLine.textContent = "";
      renderQueue(); renderComments();
    } else if (frame.type === "event" && frame.event === "news.application") {
      rows.set(frame.payload.id, frame.payload);
      renderQueue();
    } else if (frame.type === "event" && frame.event === "comment.held") {
      comments.set(frame.payload.id, frame.payload); renderComments();
    } else if (frame.type === "event" && frame.event === "comment.decided") {
      comments.delete(frame.payload.id); renderComments();
    } else if (frame.type === "news.decided") {
      pending.delete(frame.request_id);
      rows.set(frame.application.id, frame.application);
      showResult(frame.application.id, fmt(T.done, { status: frame.application.status_label }), "ok");
      renderQueue();
    } else if (frame.type === "comment.decided") {
      pending.delete(frame.request_id);
      comments.delete(frame.comment.id); renderComments();
    } else if (frame.type === "error") {
      var sent = frame.request_id && pending.get(frame.request_id);
      if (sent) {
        pending.delete(frame.request_id);
        var text = T["error_" + frame.code] || fmt(T.error_other, { code: frame.code });
        if (sent.kind === "application") showResult(sent.id, text, "error");
        else statusLine.textContent = text;
      } else {
        statusLine.textContent = T["error_" + frame.code] || fmt(T.error_other, { code: frame.code });
      }
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  Array.prototype.forEach.call(heldList.querySelectorAll("button[data-comment]"), function (button) {
    button.addEventListener("click", function () { decideComment(Number(button.closest(".comment-row").dataset.id), button.dataset.comment); });
  });
  window.livewardNews = { rows: rows, pending: pending };
  connection = window.LivewardSocket.open({ onFrame: handle });
})();
