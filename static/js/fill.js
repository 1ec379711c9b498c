// Parts of a page that take long to count arrive after it: an element with data-fill-from="URL" names a
// fragment; every element of that fragment with an id replaces the page's element of the same id (the
// placeholder, which without script still links to the page that counts). No inline script: strict CSP.
(function () {
  var urls = [];
  document.querySelectorAll("[data-fill-from]").forEach(function (element) {
    var url = element.getAttribute("data-fill-from");
    if (urls.indexOf(url) < 0) { urls.push(url); }
  });
  urls.forEach(function (url) {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        // a redirect (to the login page, say) is not the fragment: keep the placeholders
        return response.ok && !response.redirected ? response.text() : null;
      })
      .then(function (html) {
        if (!html) { return; }
        var fragment = new DOMParser().parseFromString(html, "text/html");
        fragment.querySelectorAll("[id]").forEach(function (part) {
          var placeholder = document.getElementById(part.id);
          if (placeholder && !part.parentElement.closest("[id]")) {
            placeholder.replaceWith(document.importNode(part, true));
          }
        });
      })
      .catch(function () { /* the placeholders stay: each links to the page that counts */ });
  });
})();
