/* The exam sheet: every answer is kept in localStorage the moment it is given and sent to the
   server within a second or two; while offline the answers wait and are retried when the
   connection returns. The countdown follows the server's clock. A lost login (the session ended,
   or another tab logged out) keeps the answers waiting too: the page asks GET /auth/token every few
   seconds and whenever it comes back to the front, and once the same person has logged in again
   (in another tab) it takes the new CSRF token and sends what waits, without a reload.
   The navigator counts the answered questions and jumps to any of them.
   Without this script the page is a plain form that saves and submits every answer.
   All texts come from the page (translated). */
(function () {
  "use strict";

  var STORE_PREFIX = "lms-exam-";

  // The result page: the attempt is over, nothing is left to send.
  var done = document.getElementById("exam-done");
  if (done) {
    try { window.localStorage.removeItem(STORE_PREFIX + done.dataset.attempt); } catch (e) { /* private mode */ }
  }

  var form = document.getElementById("exam-form");
  // The sheet is the answer to the Start button (one request, no redirect): the address bar shows
  // the sheet's own address, so a reload or a bookmark asks for the sheet, never for a new start.
  if (form && form.dataset.pageUrl && window.history && window.history.replaceState
      && window.location.pathname !== form.dataset.pageUrl) {
    window.history.replaceState(null, "", form.dataset.pageUrl);
  }
  if (!form || !window.fetch || !window.JSON) { return; }

  var data = form.dataset;
  var storeKey = STORE_PREFIX + data.attempt;
  var offset = Number(data.serverNow) - Date.now(); // server clock minus this device's clock
  var deadline = Number(data.deadline);
  var graceMs = Number(data.grace) * 1000;
  var lastSeq = Number(data.maxSeq) || 0;
  var csrf = data.csrf;
  var statusEl = document.getElementById("save-status");
  var clockEl = document.getElementById("time-left");
  var loginEl = document.getElementById("login-needed");
  var loginText = document.getElementById("login-needed-text");
  var pending = readStore(); // slot -> {response, seq}: given here, not yet acknowledged
  var sending = false;
  var finished = false;
  var timeUp = false;
  var problem = null; // "offline", "error", "login" (logged out), "other" (another account logged in)
  var timers = {};
  var known = {}; // slot -> the response the server holds, as JSON: an unchanged answer is not re-sent
  var lastContact = Date.now(); // the last answer the server acknowledged, or the last heartbeat
  var lastRenewal = 0; // when the CSRF token was last fetched after a refusal

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

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

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
      each(q.querySelectorAll("select[data-item]"), function (select) {
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
      each(q.querySelectorAll('input[name="' + name + '"]'), function (input) {
        input.checked = chosen.indexOf(input.value) !== -1;
      });
    } else if (type === "matching") {
      each(q.querySelectorAll("select[data-item]"), function (select) {
        select.value = (response && response[select.dataset.item]) || "";
      });
    } else {
      var field = q.querySelector('[name="' + name + '"]');
      if (field) { field.value = response || ""; }
    }
  }

  // As the server counts it: a blank text, no ticks or no pair is no answer.
  function isAnswered(q) {
    var response = readResponse(q);
    if (response === null || response === undefined) { return false; }
    if (Array.isArray(response)) { return response.length > 0; }
    if (typeof response === "object") { return Object.keys(response).length > 0; }
    return String(response).trim() !== "";
  }

  function waiting() { return Object.keys(pending).length; }

  function plural(key, n) {
    return (n === 1 ? data[key + "One"] : data[key + "Other"]).replace("{n}", n);
  }

  // state: "saved", "saving", "offline" or "problem" (red: only when something is really wrong)
  function say(text, state) {
    statusEl.hidden = false;
    statusEl.textContent = text;
    statusEl.dataset.state = state || "problem";
  }

  function loggedOut() { return problem === "login" || problem === "other"; }

  function render() {
    if (finished) { return; }
    var n = waiting();
    statusEl.classList.toggle("waiting", n > 0);
    showLogin();
    if (loggedOut()) { say(n ? plural("msgLogin", n) : data.msgLoggedOut, "problem"); return; }
    if (!n) { problem = null; say(data.msgSaved, "saved"); return; }
    if (!navigator.onLine || problem === "offline") { say(plural("msgOffline", n), "offline"); return; }
    if (problem === "error") { say(data.msgError.replace("{n}", n), "problem"); return; }
    say(data.msgSaving, "saving");
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
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ slot: Number(slot), response: entry.response, seq: entry.seq })
    }).then(function (reply) {
      return reply.json().catch(function () { return null; }).then(function (body) {
        return { status: reply.status, body: body, started: started };
      });
    });
  }

  // One answer at a time, oldest slot first, until nothing waits or the connection fails.
  // While logged out nothing is sent: checkSession() starts again once the person is back.
  function flush() {
    if (sending || finished) { return; }
    var slots = Object.keys(pending);
    if (!slots.length || loggedOut()) { render(); return; }
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
      } else if (reply.status === 401) {
        lostLogin();
      } else if (reply.status === 400 && body && body.csrf) {
        // The token changed under this page (a new login in another tab): the answer is kept and
        // sent again with the session's current token.
        renewToken();
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
        say(body.error, "problem");
        flush();
      } else {
        problem = "error";
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
    stopPolling();
    say(data.msgFinished, "saved");
    window.location.assign(resultUrl || data.resultUrl);
  }

  // Resolves once every answer is acknowledged; rejects when the connection stays down or the
  // login is gone.
  function drain(patienceMs) {
    var until = Date.now() + patienceMs;
    return new Promise(function (resolve, reject) {
      (function check() {
        if (finished) { return; }
        if (!waiting() && !sending) { resolve(); return; }
        if (loggedOut() || Date.now() > until) { reject(new Error("not sent")); return; }
        flush();
        setTimeout(check, 200);
      }());
    });
  }

  // --- a lost login, and coming back from it ---
  function setToken(token) {
    csrf = token;
    form.dataset.csrf = token;
    each(document.querySelectorAll('input[name="csrf_token"]'), function (input) { input.value = token; });
  }

  function showLogin() {
    if (!loginEl) { return; }
    var show = loggedOut() && !finished;
    if (show) {
      var text = problem === "other" ? data.msgOtherUser : data.msgLoginLong;
      if (loginText.textContent !== text) { loginText.textContent = text; }
    }
    if (loginEl.hidden === show) { loginEl.hidden = !show; }
  }

  function lostLogin(kind) {
    problem = kind || "login";
    render();
    if (!timers.poll) { timers.poll = setInterval(checkSession, 4000); }
  }

  function stopPolling() {
    clearInterval(timers.poll);
    timers.poll = null;
  }

  var checking = false;
  function checkSession() {
    if (checking || finished) { return; }
    checking = true;
    fetch(data.tokenUrl, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (reply) {
        return reply.json().catch(function () { return null; }).then(function (body) {
          return { status: reply.status, body: body };
        });
      })
      .then(function (reply) {
        checking = false;
        var body = reply.body;
        if (reply.status === 200 && body && body.csrf) {
          if (String(body.user) !== String(data.user)) { lostLogin("other"); return; } // never send to them
          setToken(body.csrf);
          stopPolling();
          if (problem !== "offline") { problem = null; }
          render();
          flush();
        } else if (reply.status === 401) {
          lostLogin("login");
        } else if (!loggedOut()) {
          problem = "error";
          render();
        }
      }, function () { checking = false; /* offline: the next try, or the 'online' event */ });
  }

  // A refused token: fetch the current one; refused again at once, something else is wrong.
  function renewToken() {
    if (Date.now() - lastRenewal < 3000) { problem = "error"; render(); return; }
    lastRenewal = Date.now();
    checkSession();
  }

  function comeBack() {
    if (loggedOut()) { checkSession(); }
  }
  window.addEventListener("focus", comeBack);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { comeBack(); } });

  // --- the navigator: answered count, chips, next unanswered ---
  var nav = document.getElementById("exam-nav");
  var navToggle = document.getElementById("exam-nav-toggle");
  var navClose = document.getElementById("exam-nav-close");
  var backdrop = document.getElementById("exam-nav-backdrop");
  var nextButton = document.getElementById("next-unanswered");
  var allAnswered = document.getElementById("all-answered");
  var bar = document.getElementById("exam-bar");
  var chips = {};
  each(document.querySelectorAll(".q-chip[data-slot]"), function (chip) { chips[chip.dataset.slot] = chip; });
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function progress() {
    var total = 0;
    var count = 0;
    each(questions(), function (q) {
      var answered = isAnswered(q);
      total += 1;
      if (answered) { count += 1; }
      q.classList.toggle("answered", answered);
      var chip = chips[q.dataset.slot];
      if (chip && chip.classList.contains("answered") !== answered) {
        chip.classList.toggle("answered", answered);
        var state = chip.querySelector(".q-state");
        if (state) { state.textContent = answered ? data.msgAnswered : data.msgUnanswered; }
      }
    });
    var text = data.msgCount.replace("{done}", count).replace("{total}", total);
    each(document.querySelectorAll(".js-answered-count"), function (el) {
      if (el.textContent !== text) { el.textContent = text; }
    });
    if (allAnswered && count < total && allAnswered.textContent) { allAnswered.textContent = ""; }
  }

  function barHeight() { return bar ? bar.getBoundingClientRect().height : 0; }

  // The question at the top of the screen, under the sticky bar (or, `byFocus`, the one holding
  // the focus: a keyboard user's place).
  function currentIndex(byFocus) {
    var list = questions();
    var focused = byFocus && document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(".question[data-slot]") : null;
    if (focused) { return Array.prototype.indexOf.call(list, focused); }
    var top = barHeight() + 24;
    for (var i = 0; i < list.length; i += 1) {
      if (list[i].getBoundingClientRect().bottom > top) { return i; }
    }
    return list.length - 1;
  }

  function markCurrent() {
    var list = questions();
    var index = currentIndex();
    each(list, function (q, i) {
      var chip = chips[q.dataset.slot];
      if (!chip) { return; }
      if (i === index) { chip.setAttribute("aria-current", "step"); } else { chip.removeAttribute("aria-current"); }
    });
  }

  function isSheet() { return nav && window.matchMedia("(max-width: 999px)").matches; }

  function openNav() {
    nav.classList.add("open");
    backdrop.hidden = false;
    navToggle.setAttribute("aria-expanded", "true");
    markCurrent();
    var here = nav.querySelector('.q-chip[aria-current]') || nav.querySelector(".q-chip");
    if (here) { here.focus(); }
  }

  function closeNav(returnFocus) {
    if (!nav || !nav.classList.contains("open")) { return; }
    nav.classList.remove("open");
    backdrop.hidden = true;
    navToggle.setAttribute("aria-expanded", "false");
    if (returnFocus) { navToggle.focus(); }
  }

  function jumpTo(q) {
    closeNav(false);
    q.scrollIntoView({ block: "start", behavior: reduceMotion ? "auto" : "smooth" });
    var target = q.querySelector("input:checked") ||
      q.querySelector("input:not([type=hidden]), select, textarea");
    if (target) { target.focus({ preventScroll: true }); }
    markCurrent();
  }

  function nextUnanswered() {
    var list = questions();
    var start = currentIndex(true);
    for (var step = 1; step <= list.length; step += 1) {
      var q = list[(start + step) % list.length];
      if (!isAnswered(q)) { jumpTo(q); return; }
    }
    allAnswered.textContent = data.msgAllAnswered;
  }

  if (nav) {
    document.documentElement.classList.add("exam-js"); // the navigator becomes a sheet on a phone
    navToggle.hidden = false;
    navClose.hidden = false;
    nextButton.hidden = false;
    navToggle.addEventListener("click", function () {
      if (nav.classList.contains("open")) { closeNav(true); } else { openNav(); }
    });
    navClose.addEventListener("click", function () { closeNav(true); });
    backdrop.addEventListener("click", function () { closeNav(true); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) { closeNav(true); }
    });
    nav.addEventListener("click", function (event) {
      var chip = event.target.closest(".q-chip[data-slot]");
      if (!chip) { return; }
      var q = questionFor(chip.dataset.slot);
      if (q) { event.preventDefault(); jumpTo(q); }
    });
    nextButton.addEventListener("click", nextUnanswered);
    window.addEventListener("resize", function () { if (!isSheet()) { closeNav(false); } });
    var scrolled = false;
    window.addEventListener("scroll", function () {
      if (scrolled) { return; }
      scrolled = true;
      window.requestAnimationFrame(function () { scrolled = false; markCurrent(); });
    }, { passive: true });
  }

  // The sticky bar's height, for the questions' scroll margin (a jump lands below the bar).
  function measureBar() {
    if (bar) { document.documentElement.style.setProperty("--exam-bar-height", Math.ceil(barHeight()) + "px"); }
  }
  if (bar && window.ResizeObserver) { new window.ResizeObserver(measureBar).observe(bar); }
  measureBar();

  // --- the answers on this page: the server's, then any given here and not yet acknowledged ---
  each(questions(), function (q) {
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
  progress();
  markCurrent();

  form.addEventListener("change", function (event) {
    var q = event.target.closest(".question[data-slot]");
    if (q) { record(q); progress(); schedule(150); }
  });
  form.addEventListener("input", function (event) {
    var q = event.target.closest(".question[data-slot]");
    if (q && (event.target.type === "text" || event.target.tagName === "TEXTAREA")) {
      record(q); progress(); schedule(1000);
    }
  });

  // Enter in an answer (a one-line text, a tick, an option) would send the whole sheet to the
  // confirmation page: only the Finish button does that.
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.tagName === "INPUT" && event.target.type !== "submit") {
      event.preventDefault();
    }
  });

  // Answers save themselves: the plain form's save button is not needed.
  var saveButton = document.getElementById("save-answers");
  if (saveButton) { saveButton.hidden = true; }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (loggedOut()) { render(); checkSession(); return; }
    drain(8000).then(function () {
      form.elements.saved_by_script.value = "1";
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.value = "finish";
      form.appendChild(action);
      form.submit();
    }, function () {
      if (loggedOut()) { render(); } else { say(data.msgWaitFinish, "problem"); }
    });
  });

  // --- a heartbeat while nothing else is sent: the login session sees activity for as long as
  // the attempt is open (the server also never ends a session during an open attempt) ---
  var HEARTBEAT_MS = 3 * 60 * 1000;
  var heartbeatUrl = data.saveUrl.replace(/\/save$/, "/heartbeat");
  function heartbeat() {
    if (finished || sending || loggedOut() || !navigator.onLine || Date.now() - lastContact < HEARTBEAT_MS) { return; }
    lastContact = Date.now();
    fetch(heartbeatUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (reply) {
      if (reply.status === 401) { lostLogin(); }
      else if (reply.status === 400) { renewToken(); }
      else if (reply.status === 409) {
        reply.json().then(function (body) { finish(body && body.result_url); }, function () { finish(); });
      }
    }, function () { /* offline: the next beat tries again */ });
  }
  setInterval(heartbeat, 30000);

  window.addEventListener("online", function () { if (!loggedOut()) { problem = null; } flush(); comeBack(); });
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
      clockEl.classList.toggle("soon", seconds > 60 && seconds <= 300);
    }
    if (left <= 0 && !timeUp && !finished) {
      timeUp = true;
      say(data.msgTimeup, "saving");
      // Send what waits, within the server's allowance, then submit whatever happened.
      drain(Math.max(1000, deadline + graceMs - serverNow() - 2000)).then(submitNow, submitNow);
    }
  }

  function submitNow() {
    if (finished) { return; }
    finished = true;
    stopPolling();
    document.getElementById("time-up-form").submit();
  }

  tick();
  setInterval(tick, 1000);
  render();
  if (waiting()) { flush(); }
}());
