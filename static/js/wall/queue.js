// The queue in the window: the snapshot replaces it, deltas (by epoch and seq) update, slot in or
// drop cards in the server's priority order. A gap in seq or a new epoch (the server's sequence
// restarted) asks for a resync and keeps applying meanwhile; so does the server's resync_needed.
import { ENDED_LINGER_MS, RESYNC_RETRY_MS, liveCount } from "./page.js";
import { resync, resynced } from "./connection.js";
import { forget, noteCard } from "./alerts.js";
import { compare, forgetSorting, placedBy } from "./order.js";
import { markDirty, schedulePaint } from "./paint.js";
import { cards, dirty, elements, state, view } from "./state.js";

function sameView(frame) {
  const filters = frame.filters || {};
  const offset = frame.offset || 0;
  const category = filters.category || "", tier = filters.tier ? String(filters.tier) : "";
  const stream = typeof filters.stream === "number" ? filters.stream : null;
  return offset === view.offset && category === view.category && tier === view.tier && stream === view.stream;
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
  const first = !state.snapshots;
  state.snapshots = (state.snapshots || 0) + 1;
  const previous = new Map(cards);
  cards.clear();
  forgetSorting();
  state.order = [];
  streams.forEach(function (card) {
    const known = previous.get(card.id);
    if (known && known.escalations) card.escalations = known.escalations; // the server's card does not count them
    cards.set(card.id, card);
    placedBy(card);
    state.order.push(card.id);
  });
  state.descending = inferDirection(streams);
  elements.forEach(function (element, id) {
    if (!cards.has(id)) { forget(id); element.remove(); elements.delete(id); }
  });
  streams.forEach(function (card) { noteCard(card, "snapshot", first); });
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
  if (view.stream !== null) return card.id === view.stream;
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
    if (known && known.state !== "ended") {
      known.state = "ended";
      if (incoming.end_reason) known.end_reason = incoming.end_reason;
      endCard(id);
    } else if (!known && !view.category && !view.tier && view.stream === null) {
      state.total = Math.max(0, state.total - 1); // a stream of another window: the count is ours too
      state.structureChanged = true;
      schedulePaint();
    }
    if (known) markDirty(id);
    if (liveCount) liveCount.textContent = Math.max(0, Number(liveCount.textContent) - 1);
    return;
  }
  if (frame.event === "stream.opened" && liveCount) liveCount.textContent = Number(liveCount.textContent) + 1;
  const card = cards.get(id);
  if (card) {
    const merged = Object.assign({}, card, incoming);
    if (!matchesView(merged)) { removeCard(id); return; }
    cards.set(id, merged);
    if (merged.state === "ended" && card.state !== "ended") endCard(id);
    if (compare(merged, card) !== 0 || merged.priority !== card.priority) state.sortWanted = true;
    noteCard(merged, frame.event, false);
    markDirty(id);
    if (state.sortWanted) schedulePaint();
    return;
  }
  if (incoming.title === undefined || !matchesView(incoming)) return; // not a full card, or not ours
  if (frame.event === "stream.opened") {
    state.total += 1;
  } else if (state.order.length < view.limit && view.stream === null) {
    resync(); // every stream of a window that is not full is in it: this one was missed
    return;
  }
  const at = slotFor(incoming);
  if (at === null || (at === 0 && view.offset > 0)) return; // belongs to another window
  cards.set(id, incoming);
  placedBy(incoming);
  state.order.splice(at, 0, id);
  if (state.order.length > view.limit) {
    // A card from the next window rose into this one: the last card moves out to make room.
    const out = state.order.pop();
    cards.delete(out);
    forget(out);
  }
  state.structureChanged = true;
  noteCard(incoming, frame.event, false);
  markDirty(id);
}

function slotFor(card) {
  // Where the card goes in the server's order; null when it sorts after a full window's last card.
  for (let i = 0; i < state.order.length; i++) {
    const other = cards.get(state.order[i]);
    if (other.state !== "ended" && compare(card, other) < 0) return i;
  }
  return state.order.length < view.limit ? state.order.length : null;
}

// An ended card stays a moment, marked, then goes; it stops counting at once (badge and pager agree).
function endCard(id) {
  state.total = Math.max(0, state.total - 1);
  state.structureChanged = true;
  forget(id);
  if (view.stream === null) setTimeout(function () { removeCard(id, false); }, ENDED_LINGER_MS); // its page keeps it
}

function removeCard(id, counted) {
  if (!cards.has(id)) return;
  const ended = cards.get(id).state === "ended";
  cards.delete(id);
  forget(id);
  const at = state.order.indexOf(id);
  if (at >= 0) {
    state.order.splice(at, 1);
    if (counted !== false && !ended) state.total = Math.max(0, state.total - 1);
  }
  state.structureChanged = true;
  schedulePaint();
}
