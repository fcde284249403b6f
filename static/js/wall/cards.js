// One card: the stream's facts written into its <li> (from #card-template), changing only the text
// and attributes that differ, and the relative times that drift while the card stays the same.
import { T, fmt, lang, oneStream, streamUrl, wall } from "./page.js";
import { flagText, isAlerting } from "./alerts.js";
import { results, state } from "./state.js";

function field(element, name) {
  return element.querySelector('[data-field="' + name + '"]');
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function personName(person) {
  if (!person) return "";
  if (typeof person === "object") return person.name || person.display_name || person.username || "";
  return String(person);
}

const relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
function ago(iso) {
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (isNaN(seconds) || !relative) return iso || "";
  const abs = Math.abs(seconds);
  return abs < 60 ? relative.format(Math.min(seconds, 0), "second")
    : abs < 3600 ? relative.format(Math.round(seconds / 60), "minute")
    : abs < 86400 ? relative.format(Math.round(seconds / 3600), "hour")
    : relative.format(Math.round(seconds / 86400), "day");
}

function unit(value, name) {
  try {
    return new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "short" }).format(value);
  } catch (error) { return value + " " + name; }
}

function duration(iso) {
  const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  if (isNaN(minutes)) return "";
  if (minutes < 60) return unit(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours >= 24) return unit(Math.floor(hours / 24), "day") + (hours % 24 ? " " + unit(hours % 24, "hour") : "");
  return unit(hours, "hour") + (minutes % 60 ? " " + unit(minutes % 60, "minute") : "");
}

export function renderCard(element, card) {
  const cardState = card.state || "live";
  element.dataset.state = cardState;
  element.classList.toggle("is-news", !!(card.category && card.category.is_news));
  element.classList.toggle("is-flagged", !!card.review_flag);
  element.classList.toggle("mine", state.mine.has(card.id));
  element.classList.toggle("is-alerting", isAlerting(card.id));
  const img = element.querySelector(".card-shot img");
  const placeholder = element.querySelector(".shot-placeholder");
  if (card.snapshot_url) {
    if (img.getAttribute("src") !== card.snapshot_url) img.setAttribute("src", card.snapshot_url);
    img.hidden = false;
    placeholder.hidden = true;
  } else {
    img.hidden = true;
    placeholder.hidden = false;
  }
  const stateText = cardState === "ended" && card.end_reason === "cut" ? T.ended_cut : T[cardState];
  setText(field(element, "state"), stateText || cardState);
  const pill = oneStream !== null ? document.getElementById("stream-state") : null;
  if (pill) { setText(pill, stateText || cardState); pill.dataset.state = cardState; }
  const frameAge = field(element, "frame-age");
  frameAge.dataset.at = card.snapshot_at || "";
  frameAge.hidden = !card.snapshot_at;
  setText(frameAge, frameAgeText(frameAge));
  const title = field(element, "title");
  setText(title, card.title || "#" + card.id);
  const href = streamUrl(card.id);
  if (title.getAttribute("href") !== href) title.setAttribute("href", href);
  const publisher = card.publisher || {};
  setText(field(element, "publisher"), publisher.name || "");
  const credit = field(element, "credit");
  setText(credit, publisher.credit_level || "");
  credit.className = "credit credit-" + String(publisher.credit_level || "").toLowerCase();
  const category = card.category || {};
  setText(field(element, "category"), category.name || "");
  field(element, "news").hidden = !category.is_news;
  const tier = field(element, "tier");
  setText(tier, fmt(T.tier, { tier: card.tier }));
  tier.className = "tier tier-" + card.tier;
  setText(field(element, "viewers"), fmt(T.viewers, { count: card.viewers || 0 }));
  const liveFor = field(element, "live-for");
  liveFor.dataset.since = card.started_at || "";
  setText(liveFor, fmt(T.live_for, { duration: duration(card.started_at) }));
  const reports = field(element, "reports");
  reports.hidden = !card.open_reports;
  setText(reports, fmt(T.reports, { count: card.open_reports || 0 }));
  const review = field(element, "review");
  review.hidden = !card.review_flag;
  setText(review, fmt(T.review_flag, { flag: flagText(card) }));
  const patrolled = field(element, "patrolled");
  patrolled.dataset.at = card.last_patrolled_at || "";
  patrolled.dataset.name = personName(card.last_patrolled_by);
  setText(patrolled, patrolledText(patrolled));
  const claimed = field(element, "claimed");
  claimed.hidden = !card.claimed_by;
  setText(claimed, fmt(T.claimed_by, { name: personName(card.claimed_by) }));
  const result = results.get(card.id);
  const resultNode = field(element, "result");
  setText(resultNode, result ? result.text : "");
  resultNode.dataset.kind = result ? result.kind : "";
  const ended = cardState === "ended";
  element.querySelectorAll("button[data-action]").forEach(function (button) {
    button.disabled = ended;
  });
}

function patrolledText(node) {
  if (!node.dataset.at) return T.never_patrolled;
  return fmt(T.patrolled_by, { name: node.dataset.name, when: ago(node.dataset.at) });
}

function frameAgeText(node) {
  return node.dataset.at ? fmt(T.frame_age, { when: ago(node.dataset.at) }) : "";
}

export function refreshTimes() {
  // Relative times drift; only their text changes, nothing is re-rendered.
  wall.querySelectorAll('[data-field="frame-age"]').forEach(function (node) {
    setText(node, frameAgeText(node));
  });
  wall.querySelectorAll('[data-field="live-for"]').forEach(function (node) {
    setText(node, fmt(T.live_for, { duration: duration(node.dataset.since) }));
  });
  wall.querySelectorAll('[data-field="patrolled"]').forEach(function (node) {
    setText(node, patrolledText(node));
  });
}
