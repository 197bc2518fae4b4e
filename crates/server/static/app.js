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

  // Order page: r / h / c choose the action and narrow the reason list to it. They never choose
  // a reason: the list keeps its "Choose a reason" until the analyst picks one.
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
    Array.prototype.forEach.call(reason.querySelectorAll("option[data-action]"), function (o) {
      var show = !chosen || o.dataset.action === chosen.value;
      o.hidden = !show; o.disabled = !show;
    });
    // A reason of another action is dropped, not swapped for this action's first one.
    if (reason.selectedOptions.length && reason.selectedOptions[0].disabled) { reason.value = ""; }
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
    // preventDefault: the key must not also reach the reason list, whose type-ahead would pick the
    // first reason starting with that letter once it has the focus.
    if (e.key === "r") { pick("release"); e.preventDefault(); }
    else if (e.key === "h") { pick("hold"); e.preventDefault(); }
    else if (e.key === "c") { pick("cancel"); e.preventDefault(); }
    else if (e.key === "/") { var f = document.querySelector("form.filters input"); if (f) { f.focus(); e.preventDefault(); } }
  });
})();
