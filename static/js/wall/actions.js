// Actions on a stream: one key for "patrolled", the reason picker for the others. Each action
// carries a request id that a retry after a reconnect reuses, so nothing is done twice; its ack
// or error frame is written on the card.
import { T, actionsByKind, config, fmt } from "./page.js";
import { acknowledge } from "./alerts.js";
import { connectionState, send } from "./connection.js";
import { markDirty } from "./paint.js";
import { openPicker } from "./picker.js";
import { cards, pending, results, state } from "./state.js";

function newRequestId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; an intranet console over plain http may lack it.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
}

function showResult(id, text, kind) {
  results.set(id, { text: text, kind: kind });
  markDirty(id);
}

function sendAction(streamId, kind, reason, note, minutes) {
  const frame = { type: "action", request_id: newRequestId(), kind: kind, stream: streamId, reason: reason };
  if (note) frame.note = note;
  if (kind === "suspend") frame.minutes = minutes;
  pending.set(frame.request_id, { frame: frame, streamId: streamId });
  acknowledge(streamId);
  const sent = send(frame);
  const waiting = connectionState() === "expired" ? T.waiting_login : T.waiting;
  showResult(streamId, sent ? T.sending : waiting, "busy");
}

export function retryPending() {
  // The same request id again: the server answers with the first ack if it had done it already.
  pending.forEach(function (entry) {
    if (send(entry.frame)) showResult(entry.streamId, T.sending, "busy");
  });
}

// The connection's state changed: actions waiting for it say what they wait for.
export function onConnectionState(connectionState) {
  const text = connectionState === "expired" ? T.waiting_login : connectionState === "forbidden" ? T.error_forbidden : null;
  if (!text) return;
  pending.forEach(function (entry) { showResult(entry.streamId, text, "busy"); });
}

export function onAck(frame) {
  const entry = pending.get(frame.request_id);
  if (!entry) return; // another tab's, or answered already
  pending.delete(frame.request_id);
  state.sortWanted = true; // the card is free to move to its new place
  const action = frame.action || {};
  const kind = action.kind || entry.frame.kind;
  const cutPending = action.media_status === "pending";
  const label = T["done_" + kind + (kind === "block" && cutPending ? "_pending" : "")] || kind;
  const timings = frame.timings || {};
  const parts = [label];
  if (typeof timings.stored === "number") parts.push(fmt(T.stored, { ms: Math.round(timings.stored) }));
  if (typeof timings.media_confirmed === "number") {
    parts.push(fmt(T.confirmed, { ms: Math.round(timings.media_confirmed) }));
  } else if (cutPending) {
    parts.push(T.confirm_pending);
  }
  showResult(entry.streamId, parts.join(" · "), cutPending ? "busy" : "ok");
}

export function onError(frame) {
  if (frame.code === "not_on_duty") {
    // The claim was refused: the shift is not open (never checked in, or ended elsewhere).
    const banner = document.getElementById("duty-banner");
    if (banner) banner.hidden = false;
    return;
  }
  if (!frame.request_id) return; // a refused ping or resync: nothing for the patroller to do
  const entry = pending.get(frame.request_id);
  if (!entry) return;
  pending.delete(frame.request_id);
  state.sortWanted = true;
  const text = T["error_" + frame.code] || fmt(T.error_other, { code: frame.code });
  showResult(entry.streamId, text, "error");
}

export function startAction(streamId, kind) {
  if (!actionsByKind[kind] || !cards.has(streamId)) return;
  if (cards.get(streamId).state === "ended") return;
  if (kind === "mark_patrolled") {
    // One key: patrolling has one reason, and a shift marks hundreds of streams.
    sendAction(streamId, kind, config.patrolledReason, "", null);
    return;
  }
  openPicker(streamId, kind, sendAction);
}
