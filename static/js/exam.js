/* The exam sheet: every answer is kept in localStorage the moment it is given and sent to the
   server within a second or two; while offline the answers wait and are retried when the
   connection returns. The countdown follows the server's clock. Without this script the page is
   a plain form that saves and submits every answer. All texts come from the page (translated). */
(function () {
  "use strict";

  var STORE_PREFIX = "lms-exam-";

  // The result page: the attempt is over, nothing is left to send.
  var done = document.getElementById("exam-done");
  if (done) {
    try { window.localStorage.removeItem(STORE_PREFIX + done.dataset.attempt); } catch (e) { /* private mode */ }
  }

  var form = document.getElementById("exam-form");
  if (!form || !window.fetch || !window.JSON) { return; }

  var data = form.dataset;
  var storeKey = STORE_PREFIX + data.attempt;
  var offset = Number(data.serverNow) - Date.now(); // server clock minus this device's clock
  var deadline = Number(data.deadline);
  var graceMs = Number(data.grace) * 1000;
  var lastSeq = Number(data.maxSeq) || 0;
  var statusEl = document.getElementById("save-status");
  var clockEl = document.getElementById("time-left");
  var pending = readStore(); // slot -> {response, seq}: given here, not yet acknowledged
  var sending = false;
  var finished = false;
  var timeUp = false;
  var problem = null; // "error" or "login" after a failed send
  var timers = {};
  var known = {}; // slot -> the response the server holds, as JSON: an unchanged answer is not re-sent
  var lastContact = Date.now(); // the last answer the server acknowledged, or the last heartbeat

  function readStore() {
    try { return JSON.parse(window.localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }

  function writeStore() {
    try {
      if (Object.keys(pending).length) { window.localStorage.setItem(storeKey, JSON.stringify(pending)); }
      else { window.localStorage.removeItem(storeKey); }
    } catch (e) { /* storage full or disabled: the answers still go to the server */ }
  }

  function serverNow() { return Date.now() + offset; }

  // Sequence numbers follow the server's clock, so the answer given last wins on any device.
  function nextSeq() {
    lastSeq = Math.max(lastSeq + 1, Math.floor(serverNow()));
    return lastSeq;
  }

  function questions() { return form.querySelectorAll(".question[data-slot]"); }

  function questionFor(slot) { return form.querySelector('.question[data-slot="' + slot + '"]'); }

  function readResponse(q) {
    var type = q.dataset.type;
    var name = "q" + q.dataset.slot;
    if (type === "single" || type === "truefalse") {
      var checked = q.querySelector('input[name="' + name + '"]:checked');
      return checked ? checked.value : null;
    }
    if (type === "multi") {
      return Array.prototype.map.call(q.querySelectorAll('input[name="' + name + '"]:checked'),
        function (box) { return box.value; });
    }
    if (type === "matching") {
      var pairs = {};
      Array.prototype.forEach.call(q.querySelectorAll("select[data-item]"), function (select) {
        if (select.value !== "") { pairs[select.dataset.item] = select.value; }
      });
      return pairs;
    }
    var field = q.querySelector('[name="' + name + '"]');
    return field ? field.value : null;
  }

  function applyResponse(q, response) {
    var type = q.dataset.type;
    var name = "q" + q.dataset.slot;
    if (type === "single" || type === "truefalse" || type === "multi") {
      var chosen = [].concat(response === null || response === undefined ? [] : response).map(String);
      Array.prototype.forEach.call(q.querySelectorAll('input[name="' + name + '"]'), function (input) {
        input.checked = chosen.indexOf(input.value) !== -1;
      });
    } else if (type === "matching") {
      Array.prototype.forEach.call(q.querySelectorAll("select[data-item]"), function (select) {
        select.value = (response && response[select.dataset.item]) || "";
      });
    } else {
      var field = q.querySelector('[name="' + name + '"]');
      if (field) { field.value = response || ""; }
    }
  }

  function waiting() { return Object.keys(pending).length; }

  function say(text) {
    statusEl.hidden = false;
    statusEl.textContent = text;
  }

  function render() {
    if (finished) { return; }
    var n = waiting();
    statusEl.classList.toggle("waiting", n > 0);
    if (!n) { problem = null; say(data.msgSaved); return; }
    if (!navigator.onLine) { say(data.msgOffline.replace("{n}", n)); return; }
    if (problem === "login") { say(data.msgLogin); return; }
    if (problem === "error") { say(data.msgError.replace("{n}", n)); return; }
    if (problem === "offline") { say(data.msgOffline.replace("{n}", n)); return; }
    say(data.msgSaving);
  }

  function record(q) {
    if (finished) { return; }
    var slot = q.dataset.slot;
    var response = readResponse(q);
    var json = JSON.stringify(response);
    if (pending[slot] ? JSON.stringify(pending[slot].response) === json : known[slot] === json) { return; }
    pending[slot] = { response: response, seq: nextSeq() };
    writeStore();
    render();
  }

  function schedule(delay) {
    clearTimeout(timers.send);
    timers.send = setTimeout(flush, delay);
  }

  function send(slot, entry) {
    var started = Date.now();
    return fetch(data.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": data.csrf, "Accept": "application/json" },
      body: JSON.stringify({ slot: Number(slot), response: entry.response, seq: entry.seq })
    }).then(function (reply) {
      return reply.json().catch(function () { return null; }).then(function (body) {
        return { status: reply.status, body: body, started: started };
      });
    });
  }

  // One answer at a time, oldest slot first, until nothing waits or the connection fails.
  function flush() {
    if (sending || finished) { return; }
    var slots = Object.keys(pending);
    if (!slots.length) { render(); return; }
    if (!navigator.onLine) { problem = "offline"; render(); return; }
    sending = true;
    render();
    var slot = slots[0];
    var entry = pending[slot];
    send(slot, entry).then(function (reply) {
      sending = false;
      var body = reply.body;
      if (reply.status === 200 && body && body.saved) {
        offset = body.server_now - (reply.started + Date.now()) / 2;
        var current = pending[slot];
        if (current && current.seq <= body.seq) { delete pending[slot]; }
        if (!current || current.seq === entry.seq) {
          // body.seq above ours: another device saved a newer answer, whose value we do not know
          if (body.seq === entry.seq) { known[slot] = JSON.stringify(entry.response); } else { delete known[slot]; }
        }
        var q = questionFor(slot);
        if (q) { q.dataset.seq = body.seq; }
        problem = null;
        lastContact = Date.now();
        writeStore();
        render();
        flush();
      } else if (reply.status === 409) {
        finish(body && body.result_url);
      } else if (reply.status === 400 && body && body.seq_refused && !entry.restamped && pending[slot] === entry) {
        // The seq ran ahead of the server's clock (this device's clock jumped): take the server's
        // time, number the answer afresh and send it once more.
        offset = body.server_now - (reply.started + Date.now()) / 2;
        lastSeq = Math.floor(serverNow()) - 1;
        pending[slot] = { response: entry.response, seq: nextSeq(), restamped: true };
        writeStore();
        flush();
      } else if (reply.status === 400 && body && body.error) {
        if (pending[slot] === entry) { delete pending[slot]; } // it can never be stored; go on with the others
        writeStore();
        say(body.error);
        flush();
      } else {
        problem = reply.status === 401 ? "login" : "error";
        render();
      }
    }, function () {
      sending = false;
      problem = "offline";
      render();
    });
  }

  function finish(resultUrl) {
    finished = true;
    pending = {};
    writeStore();
    say(data.msgFinished);
    window.location.assign(resultUrl || data.resultUrl);
  }

  // Resolves once every answer is acknowledged; rejects when the connection stays down.
  function drain(patienceMs) {
    var until = Date.now() + patienceMs;
    return new Promise(function (resolve, reject) {
      (function check() {
        if (finished) { return; }
        if (!waiting() && !sending) { resolve(); return; }
        if (Date.now() > until) { reject(new Error("offline")); return; }
        flush();
        setTimeout(check, 200);
      }());
    });
  }

  // --- the answers on this page: the server's, then any given here and not yet acknowledged ---
  Array.prototype.forEach.call(questions(), function (q) {
    var slot = q.dataset.slot;
    var local = pending[slot];
    known[slot] = JSON.stringify(readResponse(q)); // as the server sent it
    if (!local) { return; }
    if (local.seq > Number(q.dataset.seq)) {
      applyResponse(q, local.response);
      lastSeq = Math.max(lastSeq, local.seq);
    } else {
      delete pending[slot]; // the server has this answer or a newer one (another device)
    }
  });
  writeStore();

  form.addEventListener("change", function (event) {
    var q = event.target.closest(".question[data-slot]");
    if (q) { record(q); schedule(150); }
  });
  form.addEventListener("input", function (event) {
    var q = event.target.closest(".question[data-slot]");
    if (q && (event.target.type === "text" || event.target.tagName === "TEXTAREA")) { record(q); schedule(1000); }
  });

  // Enter in a one-line answer would send the whole sheet to the confirmation page.
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.type === "text") { event.preventDefault(); }
  });

  // Answers save themselves: the plain form's save button is not needed.
  var saveButton = document.getElementById("save-answers");
  if (saveButton) { saveButton.hidden = true; }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    drain(8000).then(function () {
      form.elements.saved_by_script.value = "1";
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.value = "finish";
      form.appendChild(action);
      form.submit();
    }, function () {
      say(data.msgWaitFinish);
    });
  });

  // --- a heartbeat while nothing else is sent: the login session sees activity for as long as
  // the attempt is open (the server also never ends a session during an open attempt) ---
  var HEARTBEAT_MS = 3 * 60 * 1000;
  var heartbeatUrl = data.saveUrl.replace(/\/save$/, "/heartbeat");
  function heartbeat() {
    if (finished || sending || !navigator.onLine || Date.now() - lastContact < HEARTBEAT_MS) { return; }
    lastContact = Date.now();
    fetch(heartbeatUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": data.csrf, "Accept": "application/json" }
    }).then(function (reply) {
      if (reply.status === 401) { problem = "login"; say(data.msgLogin); }
      else if (reply.status === 409) {
        reply.json().then(function (body) { finish(body && body.result_url); }, function () { finish(); });
      }
    }, function () { /* offline: the next beat tries again */ });
  }
  setInterval(heartbeat, 30000);

  window.addEventListener("online", function () { problem = null; flush(); });
  window.addEventListener("offline", render);
  setInterval(flush, 5000);

  // --- the countdown, on the server's clock ---
  function tick() {
    var left = deadline - serverNow();
    if (clockEl) {
      var seconds = Math.max(0, Math.ceil(left / 1000));
      var h = Math.floor(seconds / 3600);
      var m = Math.floor((seconds % 3600) / 60);
      var s = seconds % 60;
      clockEl.textContent = (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
      clockEl.classList.toggle("low", seconds <= 60);
    }
    if (left <= 0 && !timeUp && !finished) {
      timeUp = true;
      say(data.msgTimeup);
      // Send what waits, within the server's allowance, then submit whatever happened.
      drain(Math.max(1000, deadline + graceMs - serverNow() - 2000)).then(submitNow, submitNow);
    }
  }

  function submitNow() {
    if (finished) { return; }
    finished = true;
    document.getElementById("time-up-form").submit();
  }

  tick();
  setInterval(tick, 1000);
  render();
  if (waiting()) { flush(); }
}());
