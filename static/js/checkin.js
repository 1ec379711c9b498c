// The instructor's check-in display: counts down to the next code, then fetches it (and the QR code
// for it) from the JSON endpoint. No inline script (CSP); the texts come translated in data-* attributes.
(function () {
  var box = document.getElementById("checkin-display");
  if (!box || !box.dataset.url) { return; }
  var code = document.getElementById("checkin-code");
  var qr = document.getElementById("checkin-qr");
  var left = document.getElementById("checkin-left");
  var count = document.getElementById("checkin-count");
  var secondsLeft = parseInt(box.dataset.secondsLeft, 10) || 1;
  var tickCount = 0;

  function text(name, n) { return (box.dataset[name] || "").replace("__N__", n); }

  function refresh() {
    fetch(box.dataset.url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { secondsLeft = 5; return; }
        if (!data.open) {
          clearInterval(timer);
          code.textContent = "——";
          if (qr) { qr.hidden = true; }
          left.textContent = text("textClosed");
          return;
        }
        if (code.textContent !== data.code) {
          code.textContent = data.code;
          if (qr) { qr.src = data.qr; }
        }
        secondsLeft = data.seconds_left;
        count.textContent = text("textCount", data.checked_in);
      })
      .catch(function () { secondsLeft = 5; });  // offline for a moment: try again soon
  }

  var timer = setInterval(function () {
    secondsLeft -= 1;
    tickCount += 1;
    if (secondsLeft <= 0) { refresh(); secondsLeft = Math.max(secondsLeft, 1); }
    else if (tickCount % 15 === 0) { refresh(); }  // keeps the checked-in count fresh
    left.textContent = text("textLeft", Math.max(secondsLeft, 0));
  }, 1000);
})();
