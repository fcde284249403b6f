// What the page gives the wall: its configuration and translated texts (#wall-config, written by
// the view), the elements the wall fills in, and the wall's timings. Nothing here changes later.

export const REPAINT_MS = 250;
export const WINDOW = 100;
export const ENDED_LINGER_MS = 20000;
export const RESYNC_RETRY_MS = 5000;

export const config = JSON.parse(document.getElementById("wall-config").textContent);
export const T = config.strings;
export const lang = document.documentElement.lang || "zh-hans";

export const wall = document.getElementById("wall");
export const cardTemplate = document.getElementById("card-template");
export const pickerTemplate = document.getElementById("picker-template");
export const statusLine = document.getElementById("wall-status");
export const liveCount = document.getElementById("live-count");
export const filterCategory = document.getElementById("filter-category");
export const filterTier = document.getElementById("filter-tier");
export const windowText = document.getElementById("window-text");
export const prevButton = document.getElementById("window-prev");
export const nextButton = document.getElementById("window-next");
export const help = document.getElementById("key-help");
// The stream page shows one stream's card through the same modules: its id, or null on the wall.
export const oneStream = typeof config.stream === "number" ? config.stream : null;

export const actionsByKind = {};
export const actionsByKey = {};
config.actions.forEach(function (action) {
  actionsByKind[action.kind] = action;
  actionsByKey[action.key] = action;
});

// Django's "%(name)s" placeholders, filled from values; a missing value leaves nothing.
export function fmt(text, values) {
  return String(text).replace(/%\((\w+)\)s/g, function (match, name) {
    return values && values[name] !== undefined && values[name] !== null ? values[name] : "";
  });
}

export function streamUrl(id) {
  return config.streamUrl.replace("/0/", "/" + id + "/");
}
