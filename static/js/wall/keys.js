// The wall's keys and clicks: j/k and the arrows move between cards, n jumps to the next card with
// an alert, an action's key starts it (after p the focus moves on to the next card), Enter opens
// the stream page, / goes to the filters, ? shows the key help. Keys typed into a
// field, or into the open picker, stay there.
import { actionsByKey, filterCategory, help, streamUrl, wall } from "./page.js";
import { startAction } from "./actions.js";
import { acknowledge, nextAlerting } from "./alerts.js";
import { columns, focusCard, moveFocus } from "./focus.js";
import { schedulePaint } from "./paint.js";
import { closePicker } from "./picker.js";
import { elements, state, view } from "./state.js";

// --- the key help -------------------------------------------------------------------------------
let helpOpener = null;

function openHelp() {
  helpOpener = document.activeElement;
  help.hidden = false;
  help.focus();
}

function closeHelp() {
  help.hidden = true;
  if (helpOpener && document.contains(helpOpener)) helpOpener.focus();
  else focusCard(state.focusedId);
}

export function listenToHelp() {
  help.querySelector("[data-close]").addEventListener("click", closeHelp);
  document.getElementById("key-help-button").addEventListener("click", openHelp);
}

// --- the whole wall's keys ----------------------------------------------------------------------
function typing(target) {
  return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (!help.hidden) {
    if (event.key === "Escape" || event.key === "?") { event.preventDefault(); closeHelp(); }
    return;
  }
  if (typing(event.target)) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (event.key === "Escape") {
    wall.querySelectorAll(".shot-enlarged").forEach(function (node) { node.classList.remove("shot-enlarged"); });
  }
  closePicker(false); // a key outside the open picker leaves it: no focus trap
  const key = event.key;
  if (key === "?") { event.preventDefault(); openHelp(); return; }
  if (key === "/" && filterCategory) { event.preventDefault(); filterCategory.focus(); return; }
  if (key === "j" || key === "ArrowRight") { event.preventDefault(); moveFocus(1); return; }
  if (key === "k" || key === "ArrowLeft") { event.preventDefault(); moveFocus(-1); return; }
  if (key === "ArrowDown") { event.preventDefault(); moveFocus(columns()); return; }
  if (key === "ArrowUp") { event.preventDefault(); moveFocus(-columns()); return; }
  if (key === "n") {
    event.preventDefault();
    const next = nextAlerting(state.focusedId);
    if (next !== null) focusCard(next);
    return;
  }
  if (state.focusedId === null) return;
  // Enter on a focused button or link keeps its own meaning.
  if (key === "Enter" && view.stream === null &&
      (event.target === document.body || event.target === elements.get(state.focusedId))) {
    event.preventDefault();
    window.location.href = streamUrl(state.focusedId);
    return;
  }
  if (actionsByKey[key]) {
    event.preventDefault();
    const kind = actionsByKey[key].kind;
    startAction(state.focusedId, kind);
    if (kind === "mark_patrolled") moveFocus(1); // a shift marks hundreds: on to the next card
  }
}

// --- clicks and focus inside the wall -----------------------------------------------------------
function onClick(event) {
  const card = event.target.closest(".wall-card");
  if (!card) return;
  if (event.target.matches(".card-shot img")) {
    // Click to enlarge the frame (again, or Esc, to shrink it).
    card.classList.toggle("shot-enlarged");
    return;
  }
  const id = Number(card.dataset.stream);
  const button = event.target.closest("button[data-action]");
  if (button) { startAction(id, button.dataset.action); return; }
  if (!event.target.closest(".picker") && state.focusedId !== id) focusCard(id, !event.target.closest("a"));
}

function onFocusIn(event) {
  const card = event.target.closest(".wall-card");
  if (!card) return;
  const id = Number(card.dataset.stream);
  if (id !== state.focusedId) focusCard(id, false);
  acknowledge(id); // the patroller is looking at it
  sortSoon();
}

// The focus moved: the card it left may go to its place in the order now.
function sortSoon() {
  state.sortWanted = true;
  schedulePaint();
}

export function listenToKeys() {
  document.addEventListener("keydown", onKey);
  wall.addEventListener("click", onClick);
  wall.addEventListener("focusin", onFocusIn);
  wall.addEventListener("focusout", sortSoon);
}
