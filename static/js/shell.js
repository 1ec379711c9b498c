/* The page shell (templates/base.html, _nav.html); everything works without this file.
   1. The header's menus (<details data-menu>) behave like menus: one open at a time, closed by a
      click elsewhere or by Escape (focus back on the menu's button).
   2. A table wider than the screen scrolls inside its .table-wrap (or itself, for a table or code
      block in lesson text, .prose): that box gets tabindex="0" so a keyboard can reach and scroll it
      too (only while it does overflow). */
(function () {
  "use strict";

  var menus = Array.prototype.slice.call(document.querySelectorAll("details[data-menu]"));

  function closeAll(except) {
    menus.forEach(function (menu) {
      if (menu !== except) { menu.open = false; }
    });
  }

  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) { closeAll(menu); }
    });
  });

  if (menus.length) {
    document.addEventListener("click", function (event) {
      if (!menus.some(function (menu) { return menu.contains(event.target); })) { closeAll(null); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var open = menus.filter(function (menu) { return menu.open; })[0];
      if (open) {
        open.open = false;
        open.querySelector("summary").focus();
      }
    });
  }

  function markScrollers() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap, .prose table, .prose pre"), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
      } else if (wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
      }
    });
  }

  var pending = null;
  markScrollers();
  window.addEventListener("load", markScrollers);
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(markScrollers, 150);
  });
})();
