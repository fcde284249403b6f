// The patrol wall (巡查墙): live-stream cards over the console WebSocket (docs/console-protocol.md).
//
// One socket per tab: hello, snapshot, then deltas by epoch and seq. Deltas go into an in-memory map and mark
// their card dirty; the wall repaints at most every REPAINT_MS (a timer, then requestAnimationFrame),
// re-rendering only the touched cards. A gap in seq, a new epoch, the server's resync_needed or a
// reconnect sends `resync`: no page reload.
// Actions carry a request id that a retry after a reconnect reuses, so nothing is done twice.
// Every text comes from the page (#wall-config), already translated.
//
// The modules: page.js (config, texts, elements), state.js (the shared state), connection.js (the
// socket and claims), queue.js (snapshot and deltas in priority order), paint.js (coalesced
// repaints), order.js (re-sorting by priority around the cards the patroller is on), alerts.js
// (highlight, tab title, sound, desktop notification), cards.js (one card's content), focus.js,
// picker.js (the reason picker), actions.js (action frames, acks, errors), keys.js (keys, clicks,
// the key help). This one wires them up.
import { filterCategory, filterTier, liveCount, nextButton, prevButton } from "./page.js";
import { onAck, onConnectionState, onError, retryPending } from "./actions.js";
import { attention, listenToAlertSwitches, onJump, preference, setPreference } from "./alerts.js";
import { refreshOverdue, refreshTimes } from "./cards.js";
import { claim, connect, keepClaiming, keepResyncing, onClaimed, resync } from "./connection.js";
import { focusCard } from "./focus.js";
import { listenToHelp, listenToKeys } from "./keys.js";
import { paintCount } from "./paint.js";
import { applyDelta, applyResyncNeeded, applySnapshot } from "./queue.js";
import { cards, pending, state, view } from "./state.js";

function handle(frame) {
  switch (frame.type) {
    case "hello":
      if (liveCount && typeof frame.live === "number") liveCount.textContent = frame.live;
      // The server follows hello with a snapshot of the default view; ask for ours when it differs,
      // and always after a reconnect (events were missed meanwhile).
      if (state.gotSnapshot || view.offset || view.category || view.tier || view.stream !== null) resync();
      retryPending();
      claim();
      break;
    case "claimed": onClaimed(frame); break;
    case "snapshot": applySnapshot(frame); break;
    case "delta":
      applyDelta(frame);
      if (view.stream !== null && frame.stream && frame.stream.id === view.stream) refreshSections();
      break;
    case "resync_needed": applyResyncNeeded(frame); break;
    case "ack": onAck(frame); break;
    case "error": onError(frame); break;
    case "pong": break;
    default: break;
  }
}

// --- the stream page: its server-drawn sections (facts, actions, gate decisions …) follow the card --
let sectionsTimer = null;
function refreshSections() {
  if (sectionsTimer) return;
  sectionsTimer = setTimeout(function () {
    sectionsTimer = null;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("refresh failed");
        return response.text();
      })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-section]").forEach(function (section) {
          const next = fresh.querySelector('[data-live-section="' + section.dataset.liveSection + '"]');
          if (next) section.replaceWith(document.importNode(next, true));
        });
      })
      .catch(function () { /* the next delta tries again */ });
  }, 600);
}

// --- filters and the window ---------------------------------------------------------------------
function changeView(offset) {
  view.offset = Math.max(0, offset);
  view.category = filterCategory.value;
  view.tier = filterTier.value;
  state.focusedId = null;
  resync();
}

keepClaiming();
document.addEventListener("liveward:claim", claim); // claim now (tests; other scripts)
keepResyncing();
onJump(function (id) { if (id !== null && id !== undefined) focusCard(id); });
listenToAlertSwitches();

// Compact mode: more cards per screen; remembered for the account (on the server) and in this browser.
const compact = document.getElementById("compact-toggle");
if (compact) {
  // The account's choice (kept on the server, on the page as data-compact), else this browser's.
  const saved = document.documentElement.getAttribute("data-compact");
  compact.checked = saved === null ? preference("compact") : saved === "1";
  document.body.classList.toggle("wall-compact", compact.checked);
  compact.addEventListener("change", function () {
    setPreference("compact", compact.checked);
    if (window.livewardSavePreference) window.livewardSavePreference("compact", compact.checked ? "1" : "0");
    document.body.classList.toggle("wall-compact", compact.checked);
  });
}
listenToHelp();
listenToKeys();
if (filterCategory) {  // the wall's; the stream page has no filters or window
  filterCategory.addEventListener("change", function () { changeView(0); });
  filterTier.addEventListener("change", function () { changeView(0); });
  prevButton.addEventListener("click", function () { changeView(view.offset - view.limit); });
  nextButton.addEventListener("click", function () { changeView(view.offset + view.limit); });
  document.getElementById("wall-filters").addEventListener("submit", function (event) { event.preventDefault(); });
}

// The language menu submits itself (console.js does this on other pages).
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});

connect(handle, onConnectionState);
setInterval(refreshTimes, 5000); // frame ages move by seconds
setInterval(refreshOverdue, 5000);
// For tests and the curious: the wall's state, read-only by convention.
window.liveward = {
  cards: cards, view: view, pending: pending,
  get order() { return state.order; }, get seq() { return state.lastSeq; }, get epoch() { return state.epoch; },
  get total() { return state.total; },
  get attention() { return Array.from(attention); },
  get paints() { return paintCount(); },
};
