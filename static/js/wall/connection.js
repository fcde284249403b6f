// The wall's side of the console socket. socket.js (a classic script that base.html loads before
// this module; deferred classic and module scripts run in document order) gives
// window.LivewardSocket: heartbeat, reconnect with backoff, the live indicator.
import { RESYNC_RETRY_MS, T, config, statusLine } from "./page.js";
import { elements, state, view } from "./state.js";

let connection = null;

export function connect(onFrame, onState) {
  connection = window.LivewardSocket.open({ onFrame: onFrame, onState: onState });
}

export function connectionState() {
  return connection !== null ? connection.state() : null;
}

export function send(frame) {
  return connection !== null && connection.send(frame);
}

// Ask for the current view again: after a reconnect, a gap in seq, a new epoch, the server's
// resync_needed, or a change of filter or window. The indicator says so until the snapshot comes.
export function resync() {
  const frame = { type: "resync", offset: view.offset, limit: view.limit };
  if (view.category) frame.category = view.category;
  if (view.tier) frame.tier = Number(view.tier);
  if (view.stream !== null) frame.stream = view.stream;
  state.resyncWanted = true;
  if (send(frame)) state.resyncSentAt = Date.now();
  statusLine.textContent = T.resyncing;
  if (connection !== null) connection.syncing(true);
}

export function resynced() {
  statusLine.textContent = "";
  if (connection !== null) connection.syncing(false);
}

// A resync that got no snapshot (unsent while the socket was down, or answered by an older view)
// is asked again.
export function keepResyncing() {
  setInterval(function () {
    if (state.resyncWanted && Date.now() - state.resyncSentAt > RESYNC_RETRY_MS) resync();
  }, RESYNC_RETRY_MS);
}

// --- claims -------------------------------------------------------------------------------------
// On shift, the console claims streams for this patroller and renews the claim before it lapses,
// so the queue is spread across the patrollers on duty. Off shift the server says not_on_duty
// (an error frame without a request id, which the wall ignores) and nothing is claimed.
export function claim() {
  if (view.stream === null) send({ type: "claim", limit: 20 }); // the stream page claims nothing
}

export function keepClaiming() {
  setInterval(claim, Math.max(5, (config.claimTtlSeconds || 120) / 2) * 1000);
}

export function onClaimed(frame) {
  const banner = document.getElementById("duty-banner");
  if (banner) banner.hidden = true; // on duty: the claim was taken
  state.mine = new Set(frame.streams || []);
  elements.forEach(function (element, streamId) {
    element.classList.toggle("mine", state.mine.has(Number(streamId)));
  });
}
