// Alerts for what needs a patroller's eyes: a new machine-review flag, a new public report, an
// escalation. The card is highlighted until the patroller focuses it or acts on it, the tab title
// counts such cards, and, when the patroller switched them on (remembered in this browser, per
// user), a short tone sounds and the desktop shows a notification. `n` jumps to the next one.
import { T, config, fmt } from "./page.js";
import { cards, elements, state } from "./state.js";

export const attention = new Set(); // ids of cards with an alert nobody has looked at yet
const seen = new Map(); // id → the alert signature the patroller has looked at
const baseTitle = document.title;
const prefix = "liveward:" + (config.user || "") + ":";
const counter = document.getElementById("attention-count");
let audio = null;

function signature(card) {
  return [card.review_flag || "", card.review_score === null || card.review_score === undefined ? "" : card.review_score,
    card.open_reports || 0, card.escalations || 0].join("|");
}

function alarming(card) {
  return card.state !== "ended" && (!!card.review_flag || card.open_reports > 0 || card.escalations > 0);
}

export function preference(name) {
  try { return window.localStorage.getItem(prefix + name) === "1"; } catch (error) { return false; }
}

export function setPreference(name, on) {
  try { window.localStorage.setItem(prefix + name, on ? "1" : "0"); } catch (error) { /* private mode */ }
}

function describe(card, event) {
  const title = card.title || "#" + card.id;
  if (event === "stream.escalated") return fmt(T.alert_escalated, { title: title });
  if (card.open_reports > 0 && !card.review_flag) return fmt(T.alert_reports, { title: title, count: card.open_reports });
  return fmt(T.alert_flag, { title: title, flag: flagText(card) });
}

export function flagText(card) {
  const labels = config.reviewLabels || {};
  let text = labels[card.review_flag] || card.review_flag || "";
  if (typeof card.review_score === "number") text += " " + card.review_score.toFixed(2);
  return text;
}

function beep() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const tone = audio.createOscillator(), gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  } catch (error) { /* no audio here: the highlight and the title still say it */ }
}

function notify(card, text) {
  if (!preference("notify") || !("Notification" in window) || Notification.permission !== "granted") return;
  if (!document.hidden && document.hasFocus()) return; // the patroller sees the wall already
  try {
    const notification = new Notification(T.alert_title, { body: text, tag: "liveward-stream-" + card.id });
    notification.onclick = function () { window.focus(); notification.close(); jumpTo(card.id); };
  } catch (error) { /* some browsers allow notifications only from a service worker */ }
}

let jumpTo = function () {};
export function onJump(handler) { jumpTo = handler; }

function raise(card, event, quiet) {
  attention.add(card.id);
  state.lastAlert = { id: card.id, text: describe(card, event) };
  const element = elements.get(card.id);
  if (element) element.classList.add("is-alerting");
  if (!quiet) {
    if (preference("sound")) beep();
    notify(card, state.lastAlert.text);
  }
  update();
}

// A card arrived or changed. The first snapshot's flagged cards count without a sound.
export function noteCard(card, event, quiet) {
  if (!card || card.id === undefined) return;
  if (card.state === "ended") { forget(card.id); return; }
  if (event === "stream.escalated") {
    card.escalations = (card.escalations || 0) + 1;
    raise(card, event, quiet);
    return;
  }
  if (alarming(card) && seen.get(card.id) !== signature(card) && !attention.has(card.id)) raise(card, event, quiet);
}

// The patroller looked at the card (focused it) or acted on it.
export function acknowledge(id) {
  const card = cards.get(id);
  if (card) seen.set(id, signature(card));
  if (!attention.delete(id)) return;
  const element = elements.get(id);
  if (element) element.classList.remove("is-alerting");
  update();
}

export function forget(id) {
  if (attention.delete(id)) update();
  const element = elements.get(id);
  if (element) element.classList.remove("is-alerting");
}

// The next card needing attention after the focused one, in wall order (wrapping round).
export function nextAlerting(fromId) {
  const order = state.order.filter(function (id) { return attention.has(id); });
  if (!order.length) return null;
  const at = state.order.indexOf(fromId);
  for (let i = 1; i <= state.order.length; i++) {
    const id = state.order[(at + i + state.order.length) % state.order.length];
    if (attention.has(id)) return id;
  }
  return order[0];
}

function update() {
  const count = attention.size;
  const title = count ? "(" + count + ") " + baseTitle : baseTitle;
  if (document.title !== title) document.title = title;
  if (counter) {
    counter.hidden = !count;
    counter.textContent = fmt(T.attention, { count: count });
  }
}

export function isAlerting(id) {
  return attention.has(id);
}

export function listenToAlertSwitches() {
  const sound = document.getElementById("alert-sound"), desktop = document.getElementById("alert-notify");
  if (sound) {
    sound.checked = preference("sound");
    sound.addEventListener("change", function () {
      setPreference("sound", sound.checked);
      if (sound.checked) beep(); // the click is the gesture the browser wants before it plays sound
    });
  }
  if (desktop) {
    const supported = "Notification" in window;
    desktop.disabled = !supported;
    desktop.checked = supported && preference("notify") && Notification.permission === "granted";
    desktop.addEventListener("change", function () {
      if (!desktop.checked) { setPreference("notify", false); return; }
      Notification.requestPermission().then(function (answer) {
        desktop.checked = answer === "granted";
        setPreference("notify", desktop.checked);
      });
    });
  }
  if (counter) counter.addEventListener("click", function () { jumpTo(nextAlerting(state.focusedId)); });
}
