// Painting, coalesced: a touched card is marked dirty and the wall repaints at most every
// REPAINT_MS (a timer, then requestAnimationFrame), re-rendering only the dirty cards and moving
// only the cards that are out of place, so focus and an open picker survive a reorder. A card that
// moves glides from its old place to its new one (unless the system asks for reduced motion).
import { REPAINT_MS, T, cardTemplate, fmt, nextButton, prevButton, wall, windowText } from "./page.js";
import { renderCard } from "./cards.js";
import { focusCard } from "./focus.js";
import { reorder } from "./order.js";
import { closePicker } from "./picker.js";
import { cards, dirty, elements, state, view } from "./state.js";

let paintTimer = null, lastPaint = 0, paints = 0;

export function paintCount() {
  return paints;
}

export function markDirty(id) {
  dirty.add(id);
  schedulePaint();
}

export function schedulePaint() {
  if (paintTimer) return;
  const wait = Math.max(0, lastPaint + REPAINT_MS - Date.now());
  paintTimer = setTimeout(function () {
    requestAnimationFrame(function () { paintTimer = null; paint(); });
  }, wait);
}

function paint() {
  lastPaint = Date.now();
  paints += 1;
  dirty.forEach(function (id) {
    const card = cards.get(id);
    if (!card) return;
    let element = elements.get(id);
    if (!element) {
      element = cardTemplate.content.firstElementChild.cloneNode(true);
      element.dataset.stream = id;
      element.id = "card-" + id;
      elements.set(id, element);
    }
    renderCard(element, card);
  });
  dirty.clear();
  if (state.sortWanted) {
    state.sortWanted = false;
    reorder();
  }
  if (state.structureChanged) {
    state.structureChanged = false;
    elements.forEach(function (element, id) {
      if (!cards.has(id)) {
        if (state.picker && state.picker.streamId === id) closePicker(false);
        element.remove();
        elements.delete(id);
      }
    });
    // Move only what is out of place, so focus and the picker survive a reorder.
    const before = glideFrom();
    const active = document.activeElement; // moving a node blurs what is focused in it
    let previous = null;
    state.order.forEach(function (id) {
      const element = elements.get(id);
      const expected = previous ? previous.nextElementSibling : wall.firstElementChild;
      if (element !== expected) wall.insertBefore(element, expected);
      previous = element;
    });
    if (active && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });
    glide(before);
    renderEmptyState();
    renderWindow();
    if (state.focusedId === null || !elements.has(state.focusedId)) {
      focusCard(state.order.length ? state.order[0] : null, false);
    }
  }
}

const calm = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;

function glideFrom() {
  if ((calm && calm.matches) || !Element.prototype.animate) return null;
  const places = new Map();
  elements.forEach(function (element, id) {
    if (element.isConnected) places.set(id, element.getBoundingClientRect());
  });
  return places;
}

function glide(before) {
  if (!before) return;
  elements.forEach(function (element, id) {
    const from = before.get(id);
    if (!from || !element.isConnected) return;
    const to = element.getBoundingClientRect();
    const dx = from.left - to.left, dy = from.top - to.top;
    if (!dx && !dy) return;
    element.animate([{ transform: "translate(" + dx + "px," + dy + "px)" }, { transform: "none" }],
      { duration: 350, easing: "ease-out" });
  });
}

function renderEmptyState() {
  let empty = document.getElementById("wall-empty");
  if (state.order.length) { if (empty) empty.remove(); return; }
  if (!empty) {
    empty = document.createElement("li");
    empty.id = "wall-empty";
    empty.className = "wall-empty";
    wall.appendChild(empty);
  }
  empty.innerHTML = "";
  const strong = document.createElement("p");
  strong.innerHTML = "<strong></strong>";
  strong.firstChild.textContent = view.category || view.tier ? T.empty_filtered : T.empty;
  const hint = document.createElement("p");
  hint.className = "muted";
  hint.textContent = T.empty_hint;
  empty.appendChild(strong);
  empty.appendChild(hint);
}

function renderWindow() {
  if (!windowText) return; // the stream page
  // Ended cards linger a moment but no longer count: the pager agrees with the live count.
  const shown = state.order.filter(function (id) { return cards.get(id).state !== "ended"; }).length;
  const first = state.total && shown ? view.offset + 1 : 0, last = view.offset + shown;
  windowText.textContent = fmt(T.window, { first: first, last: last, total: state.total });
  prevButton.disabled = view.offset === 0;
  nextButton.disabled = view.offset + view.limit >= state.total;
}
