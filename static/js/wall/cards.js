// One card: the stream's facts written into its <li> (from #card-template), changing only the text
// and attributes that differ, and the relative times that drift while the card stays the same.
import { T, fmt, lang, oneStream, streamUrl, wall } from "./page.js";
import { flagText, isAlerting } from "./alerts.js";
import { cards, results, state } from "./state.js";

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
  markNodeState(element, card);
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
  const blockSuggested = card.review_suggestion === "block";
  review.classList.toggle("suggests-block", blockSuggested);
  element.classList.toggle("suggests-block", !!card.review_flag && blockSuggested);
  setText(review, fmt(blockSuggested ? T.review_flag_block : T.review_flag, { flag: flagText(card) }));
  renderComments(field(element, "comments"), card);
  const patrolled = field(element, "patrolled");
  patrolled.dataset.at = card.last_patrolled_at || "";
  patrolled.dataset.since = card.last_patrolled_at || card.started_at || "";
  patrolled.dataset.interval = card.patrol_interval || "";
  patrolled.dataset.due = card.patrol_due_at || "";
  patrolled.dataset.live = cardState === "ended" ? "" : "1";
  patrolled.dataset.name = personName(card.last_patrolled_by);
  setText(patrolled, patrolledText(patrolled));
  markOverdue(patrolled);
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

// A room under pressure (docs/comments.md): the last minute's comment rate and the shares held and
// blocked once past the threshold, and whether every comment is held (slow mode).
function renderComments(node, card) {
  const parts = [];
  const figures = card.comments;
  if (figures) {
    parts.push(fmt(T.comments_pressure, {
      rate: figures.per_minute,
      held: Math.round((figures.held_share || 0) * 100) + "%",
      blocked: Math.round((figures.blocked_share || 0) * 100) + "%",
    }));
  }
  if (card.comments_hold_all) parts.push(T.comments_hold_all);
  node.hidden = parts.length === 0;
  node.classList.toggle("under-pressure", !!figures);
  setText(node, parts.join(" · "));
}

function patrolledText(node) {
  const text = node.dataset.at ? fmt(T.patrolled_by, { name: node.dataset.name, when: ago(node.dataset.at) })
    : T.never_patrolled;
  const minutes = overdueMinutes(node);
  return minutes === null ? text : text + " · " + fmt(T.overdue, { minutes: minutes });
}

// Minutes since the card was last patrolled (or went live), once that is past its patrol due time
// (the server's patrol_due_at, else the category's interval from then); null before then. The card turns the overdue colour meanwhile.
function overdueMinutes(node) {
  const interval = Number(node.dataset.interval), since = Date.parse(node.dataset.since);
  if (!node.dataset.live) return null;
  const due = Date.parse(node.dataset.due); // the server's patrol_due_at, when the card carries it
  if (!isNaN(due)) return Date.now() <= due ? null : isNaN(since) ? 0 : Math.floor((Date.now() - since) / 60000);
  if (!interval || isNaN(since)) return null;
  const seconds = (Date.now() - since) / 1000;
  return seconds > interval ? Math.floor(seconds / 60) : null;
}

function markOverdue(node) {
  const card = node.closest(".wall-card");
  if (card) card.classList.toggle("is-overdue", overdueMinutes(node) !== null);
}

function frameAgeText(node) {
  return node.dataset.at ? fmt(T.frame_age, { when: ago(node.dataset.at) }) : "";
}

// The card's node did not answer reconciliation: live or not is unknown (docs/audits.md); its title
// says that, or that the stream is past its patrol interval (patrol_due_at). The overdue colour is
// markOverdue's, above.
function markNodeState(element, card) {
  const due = Date.parse(card.patrol_due_at);
  const overdue = (card.state || "live") === "live" && !isNaN(due) && due < Date.now();
  const unknown = card.node_state === "unknown";
  element.classList.toggle("node-unknown", unknown);
  const title = unknown ? T.node_unknown : overdue ? T.patrol_overdue : "";
  if ((element.getAttribute("title") || "") !== title) {
    if (title) element.setAttribute("title", title);
    else element.removeAttribute("title");
  }
}

export function refreshOverdue() {
  wall.querySelectorAll(".wall-card").forEach(function (element) {
    const card = cards.get(Number(element.dataset.stream));
    if (card) markNodeState(element, card);
  });
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
    markOverdue(node);
  });
}
