// The stream page's live player: the stream's HLS (hls.js) or HTTP-FLV (flv.js), both relayed by the
// console from the node (/streams/<id>/watch/…), so no stream key reaches the browser. Muted, so
// the browser lets it start by itself; it stops when the page says the stream has ended.

const video = document.getElementById("stream-player");
const status = document.getElementById("stream-player-status");
const streamState = document.getElementById("stream-state");

let stopPlayer = () => {};

function say(state) {
  if (!status) return;
  status.dataset.state = state;
  status.textContent = status.dataset[`text${state[0].toUpperCase()}${state.slice(1)}`] || "";
}

async function startHls(source) {
  if (video.canPlayType("application/vnd.apple.mpegurl") && !window.MediaSource) {
    video.src = source; // Safari plays HLS itself
    return () => video.removeAttribute("src");
  }
  const { default: Hls } = await import("../vendor/hls.js/hls.esm.min.js");
  if (!Hls.isSupported()) return null;
  // No worker: hls.js would build one from a blob, and a missing worker costs nothing at this scale.
  // X-Requested-With: fetch — a player fetching segments is not the user doing something; the
  // session's idle clock (accounts/staff_sessions.py) must not be kept running by an open page.
  const hls = new Hls({
    enableWorker: false,
    liveSyncDurationCount: 2,
    manifestLoadingMaxRetry: 30,
    xhrSetup: (xhr) => xhr.setRequestHeader("X-Requested-With", "fetch"),
  });
  let stopped = false;
  let retry = null;
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal || stopped) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else if (retry === null) {
      say("waiting");
      // The node may not have a playlist yet (a stream just started): ask again in a while.
      retry = window.setTimeout(() => {
        retry = null;
        if (!stopped) hls.loadSource(source);
      }, 3000);
    }
  });
  hls.loadSource(source);
  hls.attachMedia(video);
  return () => {
    stopped = true;
    if (retry !== null) window.clearTimeout(retry);
    hls.destroy();
  };
}

function startFlv(source) {
  const flvjs = window.flvjs;
  if (!flvjs || !flvjs.isSupported()) return null;
  const player = flvjs.createPlayer(
    { type: "flv", isLive: true, url: source },
    { enableWorker: false, headers: { "X-Requested-With": "fetch" } }, // not activity (see startHls)
  );
  player.on(flvjs.Events.ERROR, () => say("waiting"));
  player.attachMediaElement(video);
  player.load();
  return () => {
    player.unload();
    player.detachMediaElement();
    player.destroy();
  };
}

function ended() {
  return streamState && streamState.dataset.state === "ended";
}

async function start() {
  if (!video || ended()) return;
  const source = video.dataset.src;
  const stop = video.dataset.format === "flv" ? startFlv(source) : await startHls(source);
  if (!stop) {
    say("unsupported");
    return;
  }
  stopPlayer = stop;
  video.addEventListener("playing", () => say("playing"));
  video.addEventListener("waiting", () => say("waiting"));
  video.play().catch(() => {}); // autoplay of a muted video is allowed; if not, the controls are there
}

if (streamState) {
  new MutationObserver(() => {
    if (!ended()) return;
    stopPlayer();
    stopPlayer = () => {};
    say("ended");
  }).observe(streamState, { attributes: true, attributeFilter: ["data-state"] });
}

start();
