// Observing a practical: keeps "3 of 7 criteria scored" up to date as levels are tapped, points the
// counter at the next criterion still to score, and once every criterion has a level says whether the
// result passes (so the mentor fills in "what to work on" before signing). Without JavaScript the page
// works the same; the server scores and checks everything again. No inline script (CSP); the texts come
// translated in data-* attributes.
(function () {
  "use strict";
  var form = document.getElementById("observe-form");
  if (!form) { return; }
  var progress = document.getElementById("observe-progress");
  var count = progress && progress.querySelector("[data-scored-count]");
  var meter = progress && progress.querySelector("progress");
  var verdict = document.getElementById("observe-verdict");
  var workOn = document.getElementById("work-on-field");
  var criteria = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-criterion]"));
  var passPercent = parseFloat(form.getAttribute("data-pass"));

  function checkedValue(fieldset) {
    var checked = fieldset.querySelector("input[type=radio]:checked");
    return checked ? checked.value : null;
  }

  // The same arithmetic as lms/practicals/scoring.py: weight * points / max over the criteria that
  // apply; a fatal criterion at 0 fails whatever the total.
  function provisional(values) {
    var earned = 0, maximum = 0, fatal = false;
    criteria.forEach(function (fieldset, index) {
      var value = values[index];
      if (value === "na") { return; }
      var points = parseInt(value, 10);
      var weight = parseFloat(fieldset.getAttribute("data-weight"));
      var max = parseFloat(fieldset.getAttribute("data-max"));
      if (!(max > 0) || isNaN(points) || isNaN(weight)) { return; }
      earned += weight * points / max;
      maximum += weight;
      if (points === 0 && fieldset.hasAttribute("data-fatal")) { fatal = true; }
    });
    if (maximum === 0) { return null; }
    var percent = Math.round(earned * 100 / maximum * 1e6) / 1e6;
    return { percent: percent, fatal: fatal, passed: !fatal && percent >= passPercent };
  }

  function showVerdict(result) {
    if (!verdict) { return; }
    verdict.classList.remove("pass", "fail");
    if (!result) { verdict.hidden = true; return; }
    var shown = String(Math.round(result.percent * 10) / 10);
    var text = result.fatal ? verdict.getAttribute("data-text-fatal")
      : verdict.getAttribute(result.passed ? "data-text-pass" : "data-text-fail");
    verdict.textContent = (text || "").replace("__PERCENT__", shown);
    verdict.classList.add(result.passed ? "pass" : "fail");
    verdict.hidden = false;
  }

  function update() {
    var done = 0, next = null, values = [];
    criteria.forEach(function (fieldset) {
      var value = checkedValue(fieldset);
      values.push(value);
      fieldset.classList.toggle("scored", value !== null);
      if (value !== null) { done += 1; } else if (!next) { next = fieldset; }
    });
    if (count) { count.textContent = String(done); }
    if (meter) { meter.value = done; }
    if (progress) {
      progress.setAttribute("href", next ? "#" + next.id : "#sign-section");
      progress.classList.toggle("complete", done === criteria.length);
    }
    var result = done === criteria.length ? provisional(values) : null;
    showVerdict(result);
    if (workOn) { workOn.classList.toggle("needed", !!result && !result.passed); }
  }

  form.addEventListener("change", function (event) {
    if (event.target.type === "radio" && event.target.name !== "mood") { update(); }
  });
  update();
}());
