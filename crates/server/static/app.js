// riskdesk page behaviour: the CSRF header for htmx, and keyboard shortcuts. No inline script
// anywhere (the content security policy forbids it), so everything is wired here.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var token = document.body && document.body.dataset.csrf;
    if (token) { e.detail.headers["x-csrf-token"] = token; }
  });

  function typing(t) {
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  // Queue: j / k move, Enter opens; rows are also clickable.
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.row[data-href]"));
  var at = -1;
  function focusRow(i) {
    if (!rows.length) { return; }
    if (at >= 0) { rows[at].classList.remove("focus"); }
    at = Math.max(0, Math.min(rows.length - 1, i));
    rows[at].classList.add("focus");
    rows[at].scrollIntoView({ block: "nearest" });
  }
  rows.forEach(function (r) {
    r.addEventListener("click", function (e) {
      if (e.target.closest("a, button, form, input, select")) { return; }
      window.location = r.dataset.href;
    });
  });

  // Order page: r / h / c choose the action and narrow the reason list to it.
  var reason = document.getElementById("reason");
  function pick(action) {
    var radio = document.getElementById("act-" + action);
    if (!radio) { return; }
    radio.checked = true;
    syncReasons();
    if (reason) { reason.focus(); }
  }
  function syncReasons() {
    if (!reason) { return; }
    var chosen = document.querySelector("input[name=action]:checked");
    var first = null;
    Array.prototype.forEach.call(reason.querySelectorAll("option"), function (o) {
      var show = !chosen || o.dataset.action === chosen.value;
      o.hidden = !show; o.disabled = !show;
      if (show && !first) { first = o; }
    });
    if (reason.selectedOptions.length && reason.selectedOptions[0].disabled && first) { first.selected = true; }
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[name=action]"), function (r) {
    r.addEventListener("change", syncReasons);
  });
  syncReasons();

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    if (rows.length) {
      if (e.key === "j") { focusRow(at + 1); e.preventDefault(); }
      else if (e.key === "k") { focusRow(at - 1); e.preventDefault(); }
      else if (e.key === "Enter" && at >= 0) { window.location = rows[at].dataset.href; }
    }
    if (e.key === "r") { pick("release"); } else if (e.key === "h") { pick("hold"); } else if (e.key === "c") { pick("cancel"); }
    else if (e.key === "/") { var f = document.querySelector("form.filters input"); if (f) { f.focus(); e.preventDefault(); } }
  });
})();
