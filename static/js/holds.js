// The hold queue (docs/comments.md): held comments of every reason, grouped by stream with its frame,
// live over the console WebSocket (comments.resync → comments.snapshot, then comments.held /
// comments.decided events); release or reject one, a selection, or all of a stream's, by click or key.
(function () {
  "use strict";
  // The measure options are sent by the buttons, never as a form (no inline handler: the CSP).
  document.querySelectorAll("form.measure-options").forEach(function (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); });
  });
  var configElement = document.getElementById("hold-config");
  if (!configElement) return;
  var config = JSON.parse(configElement.textContent);
  var T = config.strings;
  var groupsElement = document.getElementById("hold-groups");
  var statusLine = document.getElementById("hold-status");
  var countElement = document.getElementById("hold-count");
  var comments = new Map(), selected = new Set(), pending = new Map();
  var mayDecide = new Set(config.mayDecide || []);
  var focusedId = null, counter = 0, connection = null;
  (config.rows || []).forEach(function (row) { comments.set(row.id, row); });

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (match, name) { return values && values[name] != null ? values[name] : ""; });
  }
  function time(iso) {
    var d = new Date(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }
  // The comment's text with its matched stretches in <mark> (highlights are [start, end) in code points).
  function highlighted(row) {
    var span = document.createElement("span");
    span.className = "comment-text";
    var characters = Array.from(row.text), position = 0;
    (row.highlights || []).forEach(function (stretch) {
      if (stretch[0] > position) span.appendChild(document.createTextNode(characters.slice(position, stretch[0]).join("")));
      var mark = document.createElement("mark");
      mark.textContent = characters.slice(stretch[0], stretch[1]).join("");
      span.appendChild(mark);
      position = stretch[1];
    });
    if (position < characters.length) span.appendChild(document.createTextNode(characters.slice(position).join("")));
    return span;
  }
  function button(text, onClick) {
    var element = document.createElement("button");
    element.type = "button"; element.textContent = text;
    element.addEventListener("click", onClick);
    return element;
  }

  function render() {
    var byStream = new Map();
    Array.from(comments.values()).sort(function (a, b) { return a.id - b.id; }).forEach(function (row) {
      if (!byStream.has(row.stream)) byStream.set(row.stream, []);
      byStream.get(row.stream).push(row);
    });
    groupsElement.textContent = "";
    countElement.textContent = comments.size;
    if (!comments.size) {
      var empty = document.createElement("p"); empty.className = "muted"; empty.id = "hold-empty"; empty.textContent = T.empty;
      groupsElement.appendChild(empty);
      return;
    }
    byStream.forEach(function (rows, streamId) {
      var first = rows[0];
      var section = document.createElement("section");
      section.className = "hold-group card"; section.dataset.stream = streamId;
      var head = document.createElement("div"); head.className = "hold-head";
      var frame = document.createElement("div"); frame.className = "hold-frame";
      if (first.snapshot_url) {
        var image = document.createElement("img"); image.src = first.snapshot_url; image.alt = ""; frame.appendChild(image);
      } else { frame.textContent = T.no_frame; }
      var title = document.createElement("h2");
      var link = document.createElement("a"); link.href = "/streams/" + streamId + "/"; link.textContent = first.stream_title || ("#" + streamId);
      title.appendChild(link);
      var publisher = document.createElement("span"); publisher.className = "muted"; publisher.textContent = " " + first.publisher;
      title.appendChild(publisher);
      head.appendChild(frame); head.appendChild(title);
      var decidable = rows.some(function (row) { return mayDecide.has(row.hold_reason); });
      if (decidable) {
        head.appendChild(button(T.release_stream, function () { decideStream(streamId, "release"); }));
        head.appendChild(button(T.reject_stream, function () { decideStream(streamId, "reject"); }));
      }
      section.appendChild(head);
      var list = document.createElement("ol");
      rows.forEach(function (row) {
        var item = document.createElement("li");
        item.className = "hold-row"; item.tabIndex = -1; item.dataset.id = row.id; item.dataset.stream = streamId;
        if (selected.has(row.id)) item.classList.add("selected");
        var box = document.createElement("input"); box.type = "checkbox"; box.checked = selected.has(row.id);
        box.setAttribute("aria-label", "select");
        box.addEventListener("change", function () { toggle(row.id, box.checked); });
        item.appendChild(box);
        item.appendChild(highlighted(row));
        var tag = document.createElement("span"); tag.className = "tag reason-" + row.hold_reason;
        tag.textContent = T.reasons[row.hold_reason] || row.hold_reason;
        item.appendChild(tag);
        var meta = document.createElement("span"); meta.className = "muted";
        meta.textContent = row.viewer_id + " · " + time(row.received_at);
        item.appendChild(meta);
        if (mayDecide.has(row.hold_reason)) {
          item.appendChild(button(T.release, function () { decide([row.id], "release"); }));
          item.appendChild(button(T.reject, function () { decide([row.id], "reject"); }));
        }
        if (config.mayMeasure) {
          item.appendChild(button(T.mute, function () { measure("viewer.mute", row); }));
          item.appendChild(button(T.delete_comments, function () { measure("viewer.delete_comments", row); }));
        }
        list.appendChild(item);
      });
      section.appendChild(list);
      groupsElement.appendChild(section);
    });
    if (focusedId !== null) focus(focusedId);
  }

  function toggle(id, on) {
    if (on) selected.add(id); else selected.delete(id);
    var row = groupsElement.querySelector('.hold-row[data-id="' + id + '"]');
    if (row) { row.classList.toggle("selected", on); row.querySelector("input").checked = on; }
  }
  function focus(id) {
    var row = groupsElement.querySelector('.hold-row[data-id="' + id + '"]');
    if (row) { focusedId = id; row.focus(); }
  }
  function send(frame) { return connection !== null && connection.send(frame); }
  function requestId() { return "hold-" + Date.now().toString(36) + "-" + (++counter); }
  function decide(ids, decision) {
    if (!ids.length) return;
    var id = requestId();
    pending.set(id, ids);
    send({ type: "comments.decide", request_id: id, comments: ids, decision: decision });
  }
  function decideStream(streamId, decision) {
    var id = requestId();
    pending.set(id, []);
    send({ type: "comments.decide", request_id: id, stream: Number(streamId), decision: decision });
  }
  // A measure on the row's viewer, with the reason, period and scope chosen above the queue.
  function measure(type, row) {
    var id = requestId();
    pending.set(id, []);
    var everywhere = type === "viewer.mute" && document.getElementById("measure-scope").value === "everywhere";
    send({
      type: type, request_id: id, viewer: row.viewer_id, stream: everywhere ? null : row.stream,
      reason: document.getElementById("measure-reason").value,
      minutes: type === "viewer.mute" ? Number(document.getElementById("measure-minutes").value) : 60
    });
  }
  function removeDecided(rows) {
    rows.forEach(function (row) { comments.delete(row.id); selected.delete(row.id); });
    render();
  }

  function handle(frame) {
    if (frame.type === "hello" || frame.type === "resync_needed") {
      if (send({ type: "comments.resync" })) connection.syncing(true);
    } else if (frame.type === "comments.snapshot") {
      connection.syncing(false);
      comments = new Map();
      frame.comments.forEach(function (row) { comments.set(row.id, row); });
      mayDecide = new Set(frame.may_decide);
      render();
    } else if (frame.type === "event" && frame.event === "comments.held") {
      frame.payload.comments.forEach(function (row) { comments.set(row.id, row); });
      render();
    } else if (frame.type === "event" && frame.event === "comments.decided") {
      removeDecided(frame.payload.comments);
    } else if (frame.type === "comments.decided") {
      pending.delete(frame.request_id);
      statusLine.textContent = fmt(T.decided, { count: frame.comments.length });
      removeDecided(frame.comments);
    } else if (frame.type === "viewer.muted") {
      pending.delete(frame.request_id);
      statusLine.textContent = fmt(T.muted, { viewer: frame.mute.viewer, until: time(frame.mute.until) });
    } else if (frame.type === "viewer.comments_deleted") {
      pending.delete(frame.request_id);
      statusLine.textContent = fmt(T.deleted, { count: frame.comments.length });
    } else if (frame.type === "error" && frame.request_id && pending.has(frame.request_id)) {
      pending.delete(frame.request_id);
      statusLine.textContent = T["error_" + frame.code] || fmt(T.error_other, { code: frame.code });
    }
  }

  document.getElementById("release-selected").addEventListener("click", function () { decide(Array.from(selected), "release"); });
  document.getElementById("reject-selected").addEventListener("click", function () { decide(Array.from(selected), "reject"); });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "textarea" || (tag === "input" && event.target.type !== "checkbox") || tag === "select") return;
    var rows = Array.prototype.slice.call(groupsElement.querySelectorAll(".hold-row"));
    if (!rows.length) return;
    var index = rows.findIndex(function (row) { return Number(row.dataset.id) === focusedId; });
    var current = index >= 0 ? rows[index] : null;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      var next = rows[Math.max(0, Math.min(rows.length - 1, index + (event.key === "j" ? 1 : -1)))] || rows[0];
      focus(Number(next.dataset.id));
    } else if (event.key === " " && current) {
      event.preventDefault();
      toggle(focusedId, !selected.has(focusedId));
    } else if ((event.key === "l" || event.key === "x") && (selected.size || current)) {
      event.preventDefault();
      decide(selected.size ? Array.from(selected) : [focusedId], event.key === "l" ? "release" : "reject");
    } else if ((event.key === "L" || event.key === "X") && current) {
      event.preventDefault();
      decideStream(current.dataset.stream, event.key === "L" ? "release" : "reject");
    }
  });
  render();
  window.livewardHolds = { comments: comments, pending: pending };
  connection = window.LivewardSocket.open({ onFrame: handle });
})();
