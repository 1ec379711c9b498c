/* The Chinese fallback face (static/css/fonts.css) is fetched only when a page shows Chinese that no
   system font covers. Chromium keeps drawing the text it laid out before the face arrived with
   boxes (tofu), so once the face has loaded, mark the page: fonts.css then changes a font feature
   that does not alter the look, which makes the browser lay the text out again with the new face. */
(function () {
  "use strict";
  var fonts = document.fonts;
  if (!fonts || !fonts.addEventListener) { return; }
  var FAMILY = "Service Academy Sans SC";

  function isOurs(face) {
    return face.family.replace(/["']/g, "") === FAMILY && face.status === "loaded";
  }

  function mark() { document.documentElement.classList.add("cjk-fallback-loaded"); }

  function check(faces) {
    for (var i = 0; i < faces.length; i += 1) {
      if (isOurs(faces[i])) { mark(); return true; }
    }
    return false;
  }

  var loaded = [];
  if (fonts.forEach) { fonts.forEach(function (face) { loaded.push(face); }); }
  if (check(loaded)) { return; }
  fonts.addEventListener("loadingdone", function (event) { check(event.fontfaces || []); });
})();
