// The focused card: one card at a time is in the tab order (roving tabindex) and outlined; the
// wall's keys move it along the window, and up or down by a row of the grid.
import { wall } from "./page.js";
import { elements, state } from "./state.js";

export function focusCard(id, moveFocus) {
  if (state.focusedId !== null && elements.has(state.focusedId)) {
    const old = elements.get(state.focusedId);
    old.tabIndex = -1;
    old.classList.remove("is-focused");
  }
  state.focusedId = id;
  if (id === null || !elements.has(id)) return;
  const element = elements.get(id);
  element.tabIndex = 0;
  element.classList.add("is-focused");
  if (moveFocus !== false) {
    element.focus({ preventScroll: true });
    element.scrollIntoView({ block: "nearest" });
  }
}

// How many cards the grid shows in a row: those on the first card's line.
export function columns() {
  const first = wall.firstElementChild;
  if (!first) return 1;
  const top = first.offsetTop;
  let count = 0;
  for (let node = first; node && node.offsetTop === top; node = node.nextElementSibling) count++;
  return Math.max(1, count);
}

export function moveFocus(step) {
  if (!state.order.length) return;
  const current = state.focusedId !== null ? elements.get(state.focusedId) : null;
  if (current && !current.contains(document.activeElement)) {
    focusCard(state.focusedId); // the first key brings the focus to the wall where it was
    return;
  }
  const at = state.order.indexOf(state.focusedId);
  const next = at < 0 ? 0 : Math.min(state.order.length - 1, Math.max(0, at + step));
  focusCard(state.order[next]);
}
