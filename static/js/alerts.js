// Audit alerts on every console page of the staff on duty (docs/audits.md): the hello frame brings
// the unresolved findings, "audit.finding" events add, update or remove one. Acknowledge and resolve
// post to the audits page's URLs; every console then gets the finding's new status. Texts come from
// the page (#audit-alerts data attributes), already translated.
(function () {
  "use strict";
  var box = document.getElementById("audit-alerts");
  if (!box) return;
  var list = box.querySelector("ul");
  var T = box.dataset;
  var csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  var csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (csrfInput) csrf = csrfInput.value;

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch", "Content-Type": "application/x-www-form-urlencoded" },
      body: body || "",
    }).then(function (response) { return response.json(); }).then(function (alert) { if (alert && alert.id) show(alert); });
  }

  function button(text, onClick) {
    var el = document.createElement("button");
    el.type = "button";
    el.textContent = text;
    el.addEventListener("click", onClick);
    return el;
  }

  function show(alert) {
    var item = list.querySelector('[data-finding="' + alert.id + '"]');
    if (alert.status === "resolved") {
      if (item) item.remove();
    } else {
      if (!item) {
        item = document.createElement("li");
        item.dataset.finding = alert.id;
        list.insertBefore(item, list.firstChild);
      }
      item.className = "audit-alert severity-" + alert.severity + " status-" + alert.status;
      item.textContent = "";
      var text = document.createElement("span");
      text.className = "alert-text";
      text.textContent = alert.audit_label + ": " + alert.title;
      item.appendChild(text);
      if (alert.status === "acknowledged") {
        var who = document.createElement("span");
        who.className = "muted";
        who.textContent = " " + T.acknowledgedBy + " " + (alert.acknowledged_by || "");
        item.appendChild(who);
      } else {
        item.appendChild(button(T.acknowledge, function () { post(T.url.replace("0/acknowledge", alert.id + "/acknowledge")); }));
      }
      item.appendChild(button(T.resolve, function () { post(T.url.replace("0/acknowledge", alert.id + "/resolve"), "note="); }));
    }
    box.hidden = list.children.length === 0;
  }

  document.addEventListener("liveward:frame", function (event) {
    var frame = event.detail.frame;
    if (frame.type === "hello" && frame.alerts) {
      list.textContent = "";
      frame.alerts.slice().reverse().forEach(show);
      box.hidden = list.children.length === 0;
    } else if (frame.type === "event" && frame.event === "audit.finding") {
      show(frame.payload);
    }
  });
})();
