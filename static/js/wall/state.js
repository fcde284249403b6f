// The wall's state, shared by its modules. The collections are changed in place; the values that
// are replaced live on `state`, since a module cannot assign to a binding it imported.
import { WINDOW, oneStream } from "./page.js";

export const cards = new Map();     // id → card (the server's JSON)
export const elements = new Map();  // id → <li>
export const results = new Map();   // id → {text, kind: "ok"|"error"|"busy"} shown on the card
export const dirty = new Set();     // ids whose card must re-render
export const pending = new Map();   // request_id → {frame, streamId}: sent, not yet answered
export const view = { offset: 0, limit: WINDOW, category: "", tier: "", stream: oneStream };

export const state = {
  order: [],                // ids in the window, in the server's priority order
  structureChanged: false,  // the order or membership changed
  sortWanted: false,        // a card's place in the order may have changed: re-sort at the next paint
  snapshots: 0,             // snapshots applied (the first one's flags alert without a sound)
  lastAlert: null,          // {id, text} of the latest alert
  epoch: null,              // the server's sequence epoch that lastSeq counts in
  lastSeq: null,            // seq of the last applied snapshot or delta
  total: 0,
  gotSnapshot: false,
  descending: null,
  resyncSentAt: 0,
  resyncWanted: false,
  resyncNeeded: null,       // {epoch, seq} of a resync_needed that came while a resync was on its way
  focusedId: null,
  picker: null,             // {form, streamId, kind, index, options, onConfirm}
  mine: new Set(),          // ids this patroller has claimed
};
