// The patrol wall (巡查墙): live-stream cards over the console WebSocket (docs/console-protocol.md).
//
// One socket per tab: hello, snapshot, then deltas by seq. Deltas go into an in-memory map and mark
// their card dirty; the wall repaints at most every REPAINT_MS (a timer, then requestAnimationFrame),
// re-rendering only the touched cards. A gap in seq, or a reconnect, sends `resync`: no page reload.
// Actions carry a request id that a retry after a reconnect reuses, so nothing is done twice.
// Every text comes from the page (#wall-config), already translated.
(function () {
  "use strict";
  var REPAINT_MS = 250;
  var WINDOW = 100, ENDED_LINGER_MS = 20000, RESYNC_RETRY_MS = 5000;

  var config = JSON.parse(document.getElementById("wall-config").textContent);
  var T = config.strings;
  var lang = document.documentElement.lang || "zh-hans";
  var wall = document.getElementById("wall");
  var cardTemplate = document.getElementById("card-template");
  var pickerTemplate = document.getElementById("picker-template");
  var statusLine = document.getElementById("wall-status");
  var liveCount = document.getElementById("live-count");
  var filterCategory = document.getElementById("filter-category");
  var filterTier = document.getElementById("filter-tier");
  var windowText = document.getElementById("window-text");
  var prevButton = document.getElementById("window-prev");
  var nextButton = document.getElementById("window-next");
  var help = document.getElementById("key-help");
  var actionsByKind = {}, actionsByKey = {};
  config.actions.forEach(function (action) { actionsByKind[action.kind] = action; actionsByKey[action.key] = action; });

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (match, name) {
      return values && values[name] !== undefined && values[name] !== null ? values[name] : "";
    });
  }

  // --- state ------------------------------------------------------------------------------------
  var cards = new Map();          // id → card (the server's JSON)
  var order = [];                 // ids in the window, in the server's priority order
  var elements = new Map();       // id → <li>
  var results = new Map();        // id → {text, kind: "ok"|"error"|"busy"} shown on the card
  var dirty = new Set();          // ids whose card must re-render
  var structureChanged = false;   // the order or membership changed
  var lastSeq = null;             // seq of the last applied snapshot or delta
  var view = { offset: 0, limit: WINDOW, category: "", tier: "" };
  var total = 0, gotSnapshot = false, descending = null;
  var resyncSentAt = 0, resyncWanted = false;
  var focusedId = null;
  var pending = new Map();        // request_id → {frame, streamId}: sent, not yet answered
  var picker = null;              // {form, streamId, kind, index}

  // --- the socket (socket.js: heartbeat, reconnect with backoff, live indicator) ----------------
  var connection = null;

  function send(frame) {
    return connection !== null && connection.send(frame);
  }

  // On shift, the console claims streams for this patroller and renews the claim before it lapses,
  // so the queue is spread across the patrollers on duty. Off shift the server says not_on_duty
  // (an error frame without a request id, which the wall ignores) and nothing is claimed.
  var mine = new Set();
  function claim() {
    send({ type: "claim", limit: 20 });
  }
  setInterval(claim, Math.max(5, (config.claimTtlSeconds || 120) / 2) * 1000);

  function onClaimed(frame) {
    mine = new Set(frame.streams || []);
    elements.forEach(function (element, streamId) { element.classList.toggle("mine", mine.has(Number(streamId))); });
  }

  function resync() {
    var frame = { type: "resync", offset: view.offset, limit: view.limit };
    if (view.category) frame.category = view.category;
    if (view.tier) frame.tier = Number(view.tier);
    resyncWanted = true;
    if (send(frame)) resyncSentAt = Date.now();
    statusLine.textContent = T.resyncing;
  }

  function handle(frame) {
    switch (frame.type) {
      case "hello":
        if (liveCount && typeof frame.live === "number") liveCount.textContent = frame.live;
        // The server follows hello with a snapshot of the default view; ask for ours when it differs,
        // and always after a reconnect (events were missed meanwhile).
        if (gotSnapshot || view.offset || view.category || view.tier) resync();
        retryPending();
        claim();
        break;
      case "claimed": onClaimed(frame); break;
      case "snapshot": applySnapshot(frame); break;
      case "delta": applyDelta(frame); break;
      case "ack": onAck(frame); break;
      case "error": onError(frame); break;
      case "pong": break;
      default: break;
    }
  }

  // --- snapshots and deltas ---------------------------------------------------------------------
  function sameView(frame) {
    var filters = frame.filters || {};
    var offset = frame.offset || 0;
    var category = filters.category || "", tier = filters.tier ? String(filters.tier) : "";
    return offset === view.offset && category === view.category && tier === view.tier;
  }

  function applySnapshot(frame) {
    // The snapshot that follows hello shows the default view; skip it while ours is on its way.
    if (resyncWanted && !sameView(frame)) return;
    resyncWanted = false;
    gotSnapshot = true;
    lastSeq = typeof frame.seq === "number" ? frame.seq : lastSeq;
    total = frame.total || 0;
    var streams = frame.streams || [];
    cards.clear();
    order = [];
    streams.forEach(function (card) { cards.set(card.id, card); order.push(card.id); });
    descending = inferDirection(streams);
    elements.forEach(function (element, id) { if (!cards.has(id)) { element.remove(); elements.delete(id); } });
    order.forEach(function (id) { dirty.add(id); });
    structureChanged = true;
    statusLine.textContent = "";
    schedulePaint();
  }

  function inferDirection(streams) {
    // Priority order is the server's; new cards are slotted in the same direction it uses.
    for (var i = 1; i < streams.length; i++) {
      var a = streams[i - 1].priority, b = streams[i].priority;
      if (typeof a === "number" && typeof b === "number" && a !== b) return a > b;
    }
    return descending === null ? true : descending;
  }

  function matchesView(card) {
    if (view.category && (!card.category || card.category.slug !== view.category)) return false;
    if (view.tier && String(card.tier) !== view.tier) return false;
    return true;
  }

  function applyDelta(frame) {
    if (typeof frame.seq !== "number" || lastSeq === null) return; // before the first snapshot
    if (frame.seq <= lastSeq) return; // stale: the snapshot already had it
    if (frame.seq !== lastSeq + 1) {
      // A gap: something was missed. Ask again (once per RESYNC_RETRY_MS) and keep applying meanwhile.
      if (!resyncWanted || Date.now() - resyncSentAt > RESYNC_RETRY_MS) resync();
    }
    lastSeq = frame.seq;
    var incoming = frame.stream || {};
    var id = incoming.id;
    if (id === undefined || id === null) return;
    if (frame.event === "stream.ended") {
      var known = cards.get(id);
      if (known) {
        known.state = "ended";
        if (incoming.end_reason) known.end_reason = incoming.end_reason;
        markDirty(id);
        setTimeout(function () { removeCard(id); }, ENDED_LINGER_MS);
      }
      if (liveCount) liveCount.textContent = Math.max(0, Number(liveCount.textContent) - 1);
      return;
    }
    if (frame.event === "stream.opened" && liveCount) liveCount.textContent = Number(liveCount.textContent) + 1;
    var card = cards.get(id);
    if (card) {
      var merged = Object.assign({}, card, incoming);
      if (!matchesView(merged)) { removeCard(id); return; }
      if (merged.state === "ended" && card.state !== "ended") {
        setTimeout(function () { removeCard(id); }, ENDED_LINGER_MS);
      }
      cards.set(id, merged);
      markDirty(id);
      return;
    }
    if (incoming.title === undefined || !matchesView(incoming)) return; // not a full card, or not ours
    total += 1;
    var at = slotFor(incoming);
    if (at === null || (at === 0 && view.offset > 0)) return; // belongs to another window
    cards.set(id, incoming);
    order.splice(at, 0, id);
    structureChanged = true;
    markDirty(id);
  }

  function slotFor(card) {
    // Where the card goes by priority; null when it sorts after a full window's last card.
    var p = card.priority;
    if (typeof p !== "number") return order.length < view.limit ? order.length : null;
    for (var i = 0; i < order.length; i++) {
      var q = cards.get(order[i]).priority;
      if (typeof q === "number" && (descending ? p > q : p < q)) return i;
    }
    return order.length < view.limit ? order.length : null;
  }

  function removeCard(id) {
    if (!cards.has(id)) return;
    cards.delete(id);
    var at = order.indexOf(id);
    if (at >= 0) { order.splice(at, 1); total = Math.max(0, total - 1); }
    structureChanged = true;
    schedulePaint();
  }

  function markDirty(id) {
    dirty.add(id);
    schedulePaint();
  }

  // --- painting: coalesced, at most every REPAINT_MS --------------------------------------------
  var paintTimer = null, lastPaint = 0, paints = 0;

  function schedulePaint() {
    if (paintTimer) return;
    var wait = Math.max(0, lastPaint + REPAINT_MS - Date.now());
    paintTimer = setTimeout(function () {
      requestAnimationFrame(function () { paintTimer = null; paint(); });
    }, wait);
  }

  function paint() {
    lastPaint = Date.now();
    paints += 1;
    dirty.forEach(function (id) {
      var card = cards.get(id);
      if (!card) return;
      var element = elements.get(id);
      if (!element) {
        element = cardTemplate.content.firstElementChild.cloneNode(true);
        element.dataset.stream = id;
        element.id = "card-" + id;
        elements.set(id, element);
      }
      renderCard(element, card);
    });
    dirty.clear();
    if (structureChanged) {
      structureChanged = false;
      elements.forEach(function (element, id) {
        if (!cards.has(id)) {
          if (picker && picker.streamId === id) closePicker(false);
          element.remove();
          elements.delete(id);
        }
      });
      // Move only what is out of place, so focus and the picker survive a reorder.
      var previous = null;
      order.forEach(function (id) {
        var element = elements.get(id);
        var expected = previous ? previous.nextElementSibling : wall.firstElementChild;
        if (element !== expected) wall.insertBefore(element, expected);
        previous = element;
      });
      renderEmptyState();
      renderWindow();
      if (focusedId === null || !elements.has(focusedId)) {
        focusCard(order.length ? order[0] : null, false);
      }
    }
  }

  function renderEmptyState() {
    var empty = document.getElementById("wall-empty");
    if (order.length) { if (empty) empty.remove(); return; }
    if (!empty) {
      empty = document.createElement("li");
      empty.id = "wall-empty";
      empty.className = "wall-empty";
      wall.appendChild(empty);
    }
    empty.innerHTML = "";
    var strong = document.createElement("p");
    strong.innerHTML = "<strong></strong>";
    strong.firstChild.textContent = view.category || view.tier ? T.empty_filtered : T.empty;
    var hint = document.createElement("p");
    hint.className = "muted";
    hint.textContent = T.empty_hint;
    empty.appendChild(strong);
    empty.appendChild(hint);
  }

  function renderWindow() {
    var first = total ? view.offset + 1 : 0, last = view.offset + order.length;
    windowText.textContent = fmt(T.window, { first: first, last: last, total: total });
    prevButton.disabled = view.offset === 0;
    nextButton.disabled = view.offset + view.limit >= total;
  }

  function field(element, name) {
    return element.querySelector('[data-field="' + name + '"]');
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function personName(person) {
    if (!person) return "";
    if (typeof person === "object") return person.name || person.display_name || person.username || "";
    return String(person);
  }

  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  function ago(iso) {
    var seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
    if (isNaN(seconds) || !relative) return iso || "";
    var abs = Math.abs(seconds);
    return abs < 60 ? relative.format(Math.min(seconds, 0), "second")
      : abs < 3600 ? relative.format(Math.round(seconds / 60), "minute")
      : abs < 86400 ? relative.format(Math.round(seconds / 3600), "hour")
      : relative.format(Math.round(seconds / 86400), "day");
  }

  function unit(value, name) {
    try {
      return new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "short" }).format(value);
    } catch (error) { return value + " " + name; }
  }

  function duration(iso) {
    var minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
    if (isNaN(minutes)) return "";
    if (minutes < 60) return unit(minutes, "minute");
    var hours = Math.floor(minutes / 60);
    if (hours >= 24) return unit(Math.floor(hours / 24), "day") + (hours % 24 ? " " + unit(hours % 24, "hour") : "");
    return unit(hours, "hour") + (minutes % 60 ? " " + unit(minutes % 60, "minute") : "");
  }

  function renderCard(element, card) {
    var state = card.state || "live";
    element.dataset.state = state;
    element.classList.toggle("is-news", !!(card.category && card.category.is_news));
    element.classList.toggle("is-flagged", !!card.review_flag);
    element.classList.toggle("mine", mine.has(card.id));
    var img = element.querySelector(".card-shot img");
    var placeholder = element.querySelector(".shot-placeholder");
    if (card.snapshot_url) {
      if (img.getAttribute("src") !== card.snapshot_url) img.setAttribute("src", card.snapshot_url);
      img.hidden = false;
      placeholder.hidden = true;
    } else {
      img.hidden = true;
      placeholder.hidden = false;
    }
    var stateText = state === "ended" && card.end_reason === "cut" ? T.ended_cut : T[state];
    setText(field(element, "state"), stateText || state);
    var title = field(element, "title");
    setText(title, card.title || "#" + card.id);
    var href = config.streamUrl.replace("/0/", "/" + card.id + "/");
    if (title.getAttribute("href") !== href) title.setAttribute("href", href);
    var publisher = card.publisher || {};
    setText(field(element, "publisher"), publisher.name || "");
    var credit = field(element, "credit");
    setText(credit, publisher.credit_level || "");
    credit.className = "credit credit-" + String(publisher.credit_level || "").toLowerCase();
    var category = card.category || {};
    setText(field(element, "category"), category.name || "");
    field(element, "news").hidden = !category.is_news;
    var tier = field(element, "tier");
    setText(tier, fmt(T.tier, { tier: card.tier }));
    tier.className = "tier tier-" + card.tier;
    setText(field(element, "viewers"), fmt(T.viewers, { count: card.viewers || 0 }));
    var liveFor = field(element, "live-for");
    liveFor.dataset.since = card.started_at || "";
    setText(liveFor, fmt(T.live_for, { duration: duration(card.started_at) }));
    var reports = field(element, "reports");
    reports.hidden = !card.open_reports;
    setText(reports, fmt(T.reports, { count: card.open_reports || 0 }));
    var review = field(element, "review");
    review.hidden = !card.review_flag;
    var flag = card.review_flag || "";
    if (typeof card.review_score === "number") flag += " " + card.review_score.toFixed(2);
    setText(review, fmt(T.review_flag, { flag: flag }));
    var patrolled = field(element, "patrolled");
    patrolled.dataset.at = card.last_patrolled_at || "";
    patrolled.dataset.name = personName(card.last_patrolled_by);
    setText(patrolled, patrolledText(patrolled));
    var claimed = field(element, "claimed");
    claimed.hidden = !card.claimed_by;
    setText(claimed, fmt(T.claimed_by, { name: personName(card.claimed_by) }));
    var result = results.get(card.id);
    var resultNode = field(element, "result");
    setText(resultNode, result ? result.text : "");
    resultNode.dataset.kind = result ? result.kind : "";
    var ended = state === "ended";
    Array.prototype.forEach.call(element.querySelectorAll("button[data-action]"), function (button) {
      button.disabled = ended;
    });
  }

  function patrolledText(node) {
    if (!node.dataset.at) return T.never_patrolled;
    return fmt(T.patrolled_by, { name: node.dataset.name, when: ago(node.dataset.at) });
  }

  function refreshTimes() {
    // Relative times drift; only their text changes, nothing is re-rendered.
    Array.prototype.forEach.call(wall.querySelectorAll('[data-field="live-for"]'), function (node) {
      setText(node, fmt(T.live_for, { duration: duration(node.dataset.since) }));
    });
    Array.prototype.forEach.call(wall.querySelectorAll('[data-field="patrolled"]'), function (node) {
      setText(node, patrolledText(node));
    });
  }

  // --- focus ------------------------------------------------------------------------------------
  function focusCard(id, moveFocus) {
    if (focusedId !== null && elements.has(focusedId)) {
      var old = elements.get(focusedId);
      old.tabIndex = -1;
      old.classList.remove("is-focused");
    }
    focusedId = id;
    if (id === null || !elements.has(id)) return;
    var element = elements.get(id);
    element.tabIndex = 0;
    element.classList.add("is-focused");
    if (moveFocus !== false) {
      element.focus({ preventScroll: true });
      element.scrollIntoView({ block: "nearest" });
    }
  }

  function columns() {
    var first = wall.firstElementChild;
    if (!first) return 1;
    var top = first.offsetTop, count = 0;
    for (var node = first; node && node.offsetTop === top; node = node.nextElementSibling) count++;
    return Math.max(1, count);
  }

  function moveFocus(step) {
    if (!order.length) return;
    var current = focusedId !== null ? elements.get(focusedId) : null;
    if (current && !current.contains(document.activeElement)) {
      focusCard(focusedId); // the first key brings the focus to the wall where it was
      return;
    }
    var at = order.indexOf(focusedId);
    var next = at < 0 ? 0 : Math.min(order.length - 1, Math.max(0, at + step));
    focusCard(order[next]);
  }

  // --- actions ----------------------------------------------------------------------------------
  function newRequestId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // crypto.randomUUID needs a secure context; an intranet console over plain http may lack it.
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function showResult(id, text, kind) {
    results.set(id, { text: text, kind: kind });
    markDirty(id);
  }

  function sendAction(streamId, kind, reason, note, minutes) {
    var frame = { type: "action", request_id: newRequestId(), kind: kind, stream: streamId, reason: reason };
    if (note) frame.note = note;
    if (kind === "suspend") frame.minutes = minutes;
    pending.set(frame.request_id, { frame: frame, streamId: streamId });
    showResult(streamId, send(frame) ? T.sending : T.waiting, "busy");
  }

  function retryPending() {
    // The same request id again: the server answers with the first ack if it had done it already.
    pending.forEach(function (entry) { send(entry.frame); });
  }

  function onAck(frame) {
    var entry = pending.get(frame.request_id);
    if (!entry) return; // another tab's, or answered already
    pending.delete(frame.request_id);
    var action = frame.action || {};
    var kind = action.kind || entry.frame.kind;
    var cutPending = action.media_status === "pending";
    var label = T["done_" + kind + (kind === "block" && cutPending ? "_pending" : "")] || kind;
    var timings = frame.timings || {};
    var parts = [label];
    if (typeof timings.stored === "number") parts.push(fmt(T.stored, { ms: Math.round(timings.stored) }));
    if (typeof timings.media_confirmed === "number") {
      parts.push(fmt(T.confirmed, { ms: Math.round(timings.media_confirmed) }));
    } else if (cutPending) {
      parts.push(T.confirm_pending);
    }
    showResult(entry.streamId, parts.join(" · "), cutPending ? "busy" : "ok");
  }

  function onError(frame) {
    if (!frame.request_id) return; // a refused ping or resync: nothing for the patroller to do
    var entry = pending.get(frame.request_id);
    if (!entry) return;
    pending.delete(frame.request_id);
    var text = T["error_" + frame.code] || fmt(T.error_other, { code: frame.code });
    showResult(entry.streamId, text, "error");
  }

  function startAction(streamId, kind) {
    if (!actionsByKind[kind] || !cards.has(streamId)) return;
    if (cards.get(streamId).state === "ended") return;
    if (kind === "mark_patrolled") {
      // One key: patrolling has one reason, and a shift marks hundreds of streams.
      sendAction(streamId, kind, config.patrolledReason, "", null);
      return;
    }
    openPicker(streamId, kind);
  }

  // --- the reason picker: inline in the card, no second page, focus returns on Esc ---------------
  function openPicker(streamId, kind) {
    closePicker(false);
    var element = elements.get(streamId);
    if (!element) return;
    focusCard(streamId, false);
    var form = pickerTemplate.content.firstElementChild.cloneNode(true);
    form.querySelector(".picker-title").textContent = actionsByKind[kind].label;
    form.querySelector(".picker-minutes").hidden = kind !== "suspend";
    var options = form.querySelectorAll("[role=option]");
    Array.prototype.forEach.call(options, function (option, index) {
      option.id = "reason-" + streamId + "-" + index;
      option.addEventListener("click", function () { choose(index); submitPicker(); });
    });
    picker = { form: form, streamId: streamId, kind: kind, index: 0, options: options };
    form.addEventListener("submit", function (event) { event.preventDefault(); submitPicker(); });
    form.querySelector("[data-cancel]").addEventListener("click", function () { closePicker(true); });
    form.addEventListener("keydown", pickerKey);
    element.classList.add("has-picker");
    element.querySelector(".card-body").appendChild(form);
    choose(0);
    form.querySelector(".picker-reasons").focus();
  }

  function choose(index) {
    if (!picker) return;
    var options = picker.options;
    index = Math.max(0, Math.min(options.length - 1, index));
    options[picker.index].setAttribute("aria-selected", "false");
    options[index].setAttribute("aria-selected", "true");
    picker.index = index;
    var list = picker.form.querySelector(".picker-reasons");
    list.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }

  function pickerKey(event) {
    if (!picker) return;
    var inList = event.target.classList.contains("picker-reasons");
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closePicker(true);
    } else if (inList && (event.key === "ArrowDown" || event.key === "j")) {
      event.preventDefault(); choose(picker.index + 1);
    } else if (inList && (event.key === "ArrowUp" || event.key === "k")) {
      event.preventDefault(); choose(picker.index - 1);
    } else if (inList && /^[0-9]$/.test(event.key)) {
      event.preventDefault();
      choose(event.key === "0" ? 9 : Number(event.key) - 1);
    } else if (inList && event.key === "Enter") {
      event.preventDefault(); submitPicker();
    }
    event.stopPropagation(); // the wall's keys do not fire inside the picker
  }

  function submitPicker() {
    if (!picker) return;
    var form = picker.form;
    var reason = picker.options[picker.index].dataset.reason;
    var note = form.elements.note.value.trim();
    var minutes = parseInt(form.elements.minutes.value, 10);
    if (picker.kind === "suspend" && !(minutes > 0)) { form.elements.minutes.focus(); return; }
    var streamId = picker.streamId, kind = picker.kind;
    closePicker(true);
    sendAction(streamId, kind, reason, note, minutes);
  }

  function closePicker(returnFocus) {
    if (!picker) return;
    var element = elements.get(picker.streamId);
    picker.form.remove();
    if (element) element.classList.remove("has-picker");
    var id = picker.streamId;
    picker = null;
    if (returnFocus) focusCard(id);
  }

  // --- the key help -----------------------------------------------------------------------------
  var helpOpener = null;
  function openHelp() {
    helpOpener = document.activeElement;
    help.hidden = false;
    help.focus();
  }
  function closeHelp() {
    help.hidden = true;
    if (helpOpener && document.contains(helpOpener)) helpOpener.focus();
    else focusCard(focusedId);
  }
  help.querySelector("[data-close]").addEventListener("click", closeHelp);
  document.getElementById("key-help-button").addEventListener("click", openHelp);

  // --- the whole wall's keys --------------------------------------------------------------------
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!help.hidden) {
      if (event.key === "Escape" || event.key === "?") { event.preventDefault(); closeHelp(); }
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (picker) closePicker(false); // a key outside the open picker leaves it: no focus trap
    var key = event.key;
    if (key === "?") { event.preventDefault(); openHelp(); return; }
    if (key === "/") { event.preventDefault(); filterCategory.focus(); return; }
    if (key === "j" || key === "ArrowRight") { event.preventDefault(); moveFocus(1); return; }
    if (key === "k" || key === "ArrowLeft") { event.preventDefault(); moveFocus(-1); return; }
    if (key === "ArrowDown") { event.preventDefault(); moveFocus(columns()); return; }
    if (key === "ArrowUp") { event.preventDefault(); moveFocus(-columns()); return; }
    if (focusedId === null) return;
    // Enter on a focused button or link keeps its own meaning.
    if (key === "Enter" && (event.target === document.body || event.target === elements.get(focusedId))) {
      event.preventDefault();
      window.location.href = config.streamUrl.replace("/0/", "/" + focusedId + "/");
      return;
    }
    if (actionsByKey[key]) {
      event.preventDefault();
      startAction(focusedId, actionsByKey[key].kind);
    }
  });

  wall.addEventListener("click", function (event) {
    var card = event.target.closest(".wall-card");
    if (!card) return;
    var id = Number(card.dataset.stream);
    var button = event.target.closest("button[data-action]");
    if (button) { startAction(id, button.dataset.action); return; }
    if (!event.target.closest(".picker") && focusedId !== id) focusCard(id, !event.target.closest("a"));
  });
  wall.addEventListener("focusin", function (event) {
    var card = event.target.closest(".wall-card");
    if (card && Number(card.dataset.stream) !== focusedId) focusCard(Number(card.dataset.stream), false);
  });

  // --- filters and the window -------------------------------------------------------------------
  function changeView(offset) {
    view.offset = Math.max(0, offset);
    view.category = filterCategory.value;
    view.tier = filterTier.value;
    focusedId = null;
    resync();
  }
  filterCategory.addEventListener("change", function () { changeView(0); });
  filterTier.addEventListener("change", function () { changeView(0); });
  prevButton.addEventListener("click", function () { changeView(view.offset - view.limit); });
  nextButton.addEventListener("click", function () { changeView(view.offset + view.limit); });
  document.getElementById("wall-filters").addEventListener("submit", function (event) { event.preventDefault(); });

  // The language menu submits itself (console.js does this on other pages).
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  connection = window.LivewardSocket.open({ onFrame: handle });
  setInterval(refreshTimes, 30000);
  // For tests and the curious: the wall's state, read-only by convention.
  window.liveward = {
    cards: cards, view: view, pending: pending,
    get order() { return order; }, get seq() { return lastSeq; }, get total() { return total; }, get paints() { return paints; },
  };
})();
