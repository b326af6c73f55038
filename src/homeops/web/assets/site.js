// The report site: table filters ("/" focuses one) and highlighting a Kustomization's edges in the graph.
(function () {
  "use strict";
  function filterTable(input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) { return; }
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var text = tr.textContent.toLowerCase();
      var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
      tr.classList.toggle("hidden", !ok);
      if (ok) { shown += 1; }
    });
    var count = document.getElementById(input.getAttribute("data-filter") + "-count");
    if (count) { count.textContent = shown + " shown"; }
  }
  function highlight(svg, key, on) {
    svg.querySelectorAll(".edge").forEach(function (e) {
      if (e.getAttribute("data-from") === key || e.getAttribute("data-to") === key) { e.classList.toggle("hl", on); }
    });
    svg.querySelectorAll(".node").forEach(function (n) { if (n.getAttribute("data-ks") === key) { n.classList.toggle("hl", on); } });
  }
  function start() {
    var inputs = document.querySelectorAll("input[data-filter]");
    inputs.forEach(function (input) { input.addEventListener("input", function () { filterTable(input); }); filterTable(input); });
    document.addEventListener("keydown", function (ev) {
      if (ev.target && ev.target.tagName === "INPUT") { if (ev.key === "Escape") { ev.target.blur(); } return; }
      if (ev.key === "/" && inputs.length) { inputs[0].focus(); ev.preventDefault(); }
      else if (ev.key === "t") { window.homeopsTheme.toggle(); }
    });
    document.querySelectorAll("svg.deps .node").forEach(function (node) {
      var svg = node.ownerSVGElement, key = node.getAttribute("data-ks");
      node.addEventListener("mouseenter", function () { highlight(svg, key, true); });
      node.addEventListener("mouseleave", function () { highlight(svg, key, false); });
    });
    document.body.setAttribute("data-ready", "true");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
