// The queue in the window: the snapshot replaces it, deltas (by epoch and seq) update, slot in or
// drop cards in the server's priority order. A gap in seq or a new epoch (the server's sequence
// restarted) asks for a resync and keeps applying meanwhile; so does the server's resync_needed.
import { ENDED_LINGER_MS, RESYNC_RETRY_MS, liveCount } from "./page.js";
import { resync, resynced } from "./connection.js";
import { markDirty, schedulePaint } from "./paint.js";
import { cards, dirty, elements, state, view } from "./state.js";

function sameView(frame) {
  const filters = frame.filters || {};
  const offset = frame.offset || 0;
  const category = filters.category || "", tier = filters.tier ? String(filters.tier) : "";
  return offset === view.offset && category === view.category && tier === view.tier;
}

export function applySnapshot(frame) {
  // The snapshot that follows hello shows the default view; skip it while ours is on its way.
  if (state.resyncWanted && !sameView(frame)) return;
  state.resyncWanted = false;
  state.gotSnapshot = true;
  if (typeof frame.seq === "number") {
    state.epoch = frame.epoch;
    state.lastSeq = frame.seq;
  }
  state.total = frame.total || 0;
  const streams = frame.streams || [];
  cards.clear();
  state.order = [];
  streams.forEach(function (card) { cards.set(card.id, card); state.order.push(card.id); });
  state.descending = inferDirection(streams);
  elements.forEach(function (element, id) { if (!cards.has(id)) { element.remove(); elements.delete(id); } });
  state.order.forEach(function (id) { dirty.add(id); });
  state.structureChanged = true;
  resynced();
  schedulePaint();
  const needed = state.resyncNeeded;
  state.resyncNeeded = null;
  if (needed && place(needed) !== "stale") applyResyncNeeded(needed); // this snapshot is older than it
}

// Where a numbered frame stands against what the wall has: "stale" (the wall has it already),
// "next", "gap" (frames were missed) or "epoch" (the server's sequence restarted: its numbers say
// nothing about ours).
function place(frame) {
  if (frame.epoch !== state.epoch) return "epoch";
  if (frame.seq <= state.lastSeq) return "stale";
  return frame.seq === state.lastSeq + 1 ? "next" : "gap";
}

// The server lost events meant for this console (its Redis was away): fetch the window again,
// unless a snapshot taken after this frame was numbered already has everything.
export function applyResyncNeeded(frame) {
  if (typeof frame.seq !== "number" || state.lastSeq === null) return; // the first snapshot is on its way
  if (place(frame) === "stale") return;
  if (state.resyncWanted && Date.now() - state.resyncSentAt < RESYNC_RETRY_MS) {
    // A resync is on its way; its snapshot may be newer than this (each server process sends one).
    state.resyncNeeded = { epoch: frame.epoch, seq: frame.seq };
    return;
  }
  state.epoch = frame.epoch;
  state.lastSeq = frame.seq;
  resync();
}

function inferDirection(streams) {
  // Priority order is the server's; new cards are slotted in the same direction it uses.
  for (let i = 1; i < streams.length; i++) {
    const a = streams[i - 1].priority, b = streams[i].priority;
    if (typeof a === "number" && typeof b === "number" && a !== b) return a > b;
  }
  return state.descending === null ? true : state.descending;
}

function matchesView(card) {
  if (view.category && (!card.category || card.category.slug !== view.category)) return false;
  if (view.tier && String(card.tier) !== view.tier) return false;
  return true;
}

export function applyDelta(frame) {
  if (typeof frame.seq !== "number" || state.lastSeq === null) return; // before the first snapshot
  const where = place(frame);
  if (where === "stale") return; // the snapshot already had it
  if (where === "epoch") {
    resync(); // a new epoch comes once: from here on its numbers are ours
  } else if (where === "gap") {
    // Something was missed. Ask again (once per RESYNC_RETRY_MS) and keep applying meanwhile.
    if (!state.resyncWanted || Date.now() - state.resyncSentAt > RESYNC_RETRY_MS) resync();
  }
  state.epoch = frame.epoch;
  state.lastSeq = frame.seq;
  const incoming = frame.stream || {};
  const id = incoming.id;
  if (id === undefined || id === null) return;
  if (frame.event === "stream.ended") {
    const known = cards.get(id);
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
  const card = cards.get(id);
  if (card) {
    const merged = Object.assign({}, card, incoming);
    if (!matchesView(merged)) { removeCard(id); return; }
    if (merged.state === "ended" && card.state !== "ended") {
      setTimeout(function () { removeCard(id); }, ENDED_LINGER_MS);
    }
    cards.set(id, merged);
    markDirty(id);
    return;
  }
  if (incoming.title === undefined || !matchesView(incoming)) return; // not a full card, or not ours
  state.total += 1;
  const at = slotFor(incoming);
  if (at === null || (at === 0 && view.offset > 0)) return; // belongs to another window
  cards.set(id, incoming);
  state.order.splice(at, 0, id);
  state.structureChanged = true;
  markDirty(id);
}

function slotFor(card) {
  // Where the card goes by priority; null when it sorts after a full window's last card.
  const p = card.priority;
  if (typeof p !== "number") return state.order.length < view.limit ? state.order.length : null;
  for (let i = 0; i < state.order.length; i++) {
    const q = cards.get(state.order[i]).priority;
    if (typeof q === "number" && (state.descending ? p > q : p < q)) return i;
  }
  return state.order.length < view.limit ? state.order.length : null;
}

function removeCard(id) {
  if (!cards.has(id)) return;
  cards.delete(id);
  const at = state.order.indexOf(id);
  if (at >= 0) { state.order.splice(at, 1); state.total = Math.max(0, state.total - 1); }
  state.structureChanged = true;
  schedulePaint();
}
