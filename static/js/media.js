// Lesson media: a playback-speed control (1x, 1.25x, 1.5x, 2x) under every audio and video player of
// the page. Agents listen to call recordings at 1.25-1.5x; the choice is remembered (localStorage) and
// applied to every player on the page, now and on the next lesson. The buttons' texts come translated
// in <template id="media-speed-template"> (templates/media/_players.html); no inline script (CSP).
(function () {
  "use strict";
  var KEY = "lms.media.playbackRate";
  var RATES = ["1", "1.25", "1.5", "2"];
  var template = document.getElementById("media-speed-template");
  var players = Array.prototype.slice.call(document.querySelectorAll(".lesson-media audio, .lesson-media video"));
  if (!template || !players.length) { return; }

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return RATES.indexOf(value) >= 0 ? value : "1";
    } catch (error) { return "1"; }  // storage blocked (private browsing): the default speed
  }

  function remember(rate) {
    try { window.localStorage.setItem(KEY, rate); } catch (error) { /* not remembered, still applied */ }
  }

  var current = stored();

  function applyTo(player) {
    var rate = parseFloat(current);
    player.defaultPlaybackRate = rate;  // kept when the player (re)loads its source
    player.playbackRate = rate;
  }

  function apply(rate) {
    current = rate;
    players.forEach(applyTo);
    document.querySelectorAll(".media-speed-button").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-rate") === rate ? "true" : "false");
    });
  }

  players.forEach(function (player) {
    var control = template.content.firstElementChild.cloneNode(true);
    var figure = player.closest("figure") || player;
    var caption = figure.querySelector("figcaption");
    figure.insertBefore(control, caption || null);
    player.addEventListener("loadedmetadata", function () { applyTo(player); });
    player.addEventListener("play", function () {
      if (player.playbackRate !== parseFloat(current)) { applyTo(player); }
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".media-speed-button") : null;
    if (!button) { return; }
    var rate = button.getAttribute("data-rate");
    remember(rate);
    apply(rate);
  });

  // another tab (the next lesson, opened beside) changed the speed
  window.addEventListener("storage", function (event) {
    if (event.key === KEY && RATES.indexOf(event.newValue) >= 0) { apply(event.newValue); }
  });

  apply(current);
  document.documentElement.setAttribute("data-media-ready", "true");
})();
