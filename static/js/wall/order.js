// The wall's order, kept live: the server's priority (higher first), then the longest unpatrolled
// (never patrolled first), the earliest started, the lowest id — the order of
// moderation/queries/streams.py, so a card re-sorts when a flag, a report or a patrol changes it.
// The cards the patroller is on do not move for their own changes: the focused card (while the
// focus is in it), the card with the open picker, cards with an action in flight, and ended cards
// on their way out.
import { cards, elements, pending, state } from "./state.js";

function time(iso) {
  const value = Date.parse(iso);
  return isNaN(value) ? null : value;
}

function number(value) {
  return typeof value === "number" ? value : null;
}

// Negative when a comes first.
export function compare(a, b) {
  const pa = number(a.priority), pb = number(b.priority);
  if (pa !== pb) {
    if (pa === null) return 1;
    if (pb === null) return -1;
    return state.descending === false ? pa - pb : pb - pa;
  }
  const la = time(a.last_patrolled_at), lb = time(b.last_patrolled_at);
  if (la !== lb) {
    if (la === null) return -1;
    if (lb === null) return 1;
    return la - lb;
  }
  const sa = time(a.started_at), sb = time(b.started_at);
  if (sa !== sb && sa !== null && sb !== null) return sa - sb;
  return a.id - b.id;
}

export function pinnedIds() {
  const pinned = new Set();
  if (state.picker) pinned.add(state.picker.streamId);
  pending.forEach(function (entry) { pinned.add(entry.streamId); });
  if (state.focusedId !== null) {
    const element = elements.get(state.focusedId);
    if (element && element.contains(document.activeElement)) pinned.add(state.focusedId);
  }
  state.order.forEach(function (id) {
    const card = cards.get(id);
    if (card && card.state === "ended") pinned.add(id);
  });
  return pinned;
}

// What each card was last sorted by: a pinned card keeps its place by these facts, not its new
// ones, so its own change does not move it while the others still sort around it (after p, the
// patrolled card goes behind the focused next one).
const sortedAs = new Map();

export function forgetSorting() {
  sortedAs.clear();
}

// The card took its place by these facts (a snapshot's order, a new card slotted in).
export function placedBy(card) {
  sortedAs.set(card.id, card);
}

// Sort the window. Returns whether the order changed.
export function reorder() {
  const pinned = pinnedIds();
  const key = function (id) { return (pinned.has(id) && sortedAs.get(id)) || cards.get(id); };
  const sorted = state.order.slice().sort(function (x, y) { return compare(key(x), key(y)); });
  sorted.forEach(function (id) { if (!pinned.has(id) || !sortedAs.has(id)) sortedAs.set(id, cards.get(id)); });
  sortedAs.forEach(function (_card, id) { if (!cards.has(id)) sortedAs.delete(id); });
  const changed = sorted.some(function (id, index) { return id !== state.order[index]; });
  if (changed) {
    state.order = sorted;
    state.structureChanged = true;
  }
  return changed;
}
