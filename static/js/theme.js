// The theme (light or dark), remembered per user in this browser. Loaded in <head>, not deferred,
// so a dark page never flashes light; the top bar's button switches it.
(function () {
  "use strict";
  var root = document.documentElement;
  var key = "liveward:" + (root.getAttribute("data-user") || "") + ":theme";
  try {
    var theme = window.localStorage.getItem(key);
    if (theme === "dark" || theme === "light") root.setAttribute("data-theme", theme);
  } catch (error) { /* storage refused: the light theme */ }

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
      label();
    });
  });
})();
