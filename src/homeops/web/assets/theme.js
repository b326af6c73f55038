// homeops pages: light/dark theme (the system's preference, or the reader's choice kept in localStorage).
(function () {
  "use strict";
  var KEY = "homeops-theme";
  function stored() { try { return window.localStorage.getItem(KEY); } catch (e) { return null; } }
  function keep(value) { try { window.localStorage.setItem(KEY, value); } catch (e) { /* file:// may refuse */ } }
  function preferred() {
    var s = stored();
    if (s === "light" || s === "dark") { return s; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  function apply(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    var button = document.getElementById("theme-toggle");
    if (button) { button.textContent = theme === "dark" ? "☀ light" : "☾ dark"; }
  }
  window.homeopsTheme = {
    toggle: function () {
      var next = document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark";
      keep(next); apply(next);
    },
    init: function () {
      apply(document.documentElement.getAttribute("data-theme") || preferred());
      var button = document.getElementById("theme-toggle");
      if (button) { button.addEventListener("click", window.homeopsTheme.toggle); }
    }
  };
  var forced = document.documentElement.getAttribute("data-theme");
  apply(forced || preferred());
  document.addEventListener("DOMContentLoaded", window.homeopsTheme.init);
})();
