// The theme (light or dark), remembered for the account on the server and in this browser. Loaded in <head>, not deferred,
// so a dark page never flashes light; the top bar's button switches it.
(function () {
  "use strict";
  var root = document.documentElement;
  var key = "liveward:" + (root.getAttribute("data-user") || "") + ":theme";
  // The account's choice, kept on the server, comes with the page (data-theme) and holds on any
  // computer; this browser's remembered one applies until the account has chosen.
  if (!root.hasAttribute("data-theme-saved")) {
    try {
      var theme = window.localStorage.getItem(key);
      if (theme === "dark" || theme === "light") root.setAttribute("data-theme", theme);
    } catch (error) { /* storage refused: the light theme */ }
  }

  // Keep one of the account's display preferences (theme, compact) on the server; best effort.
  window.livewardSavePreference = function (name, value) {
    var url = root.getAttribute("data-preferences");
    if (!url || !window.fetch) return;
    var csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) csrf = input.value;
    window.fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch", "Content-Type": "application/x-www-form-urlencoded" },
      body: encodeURIComponent(name) + "=" + encodeURIComponent(value),
    }).catch(function () { /* offline: this browser still remembers it */ });
  };

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    function label() {
      var dark = root.getAttribute("data-theme") === "dark";
      button.textContent = dark ? button.getAttribute("data-text-light") : button.getAttribute("data-text-dark");
      button.setAttribute("aria-pressed", dark ? "true" : "false");
    }
    label();
    button.addEventListener("click", function () {
      var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { window.localStorage.setItem(key, next); } catch (error) { /* not remembered, still switched */ }
      window.livewardSavePreference("theme", next);
      label();
    });
  });
})();
