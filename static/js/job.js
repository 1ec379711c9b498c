// The job page follows its job: it polls the JSON status, moves the <progress> bar, and reloads
// the page (which then shows the result) when the job has finished. No inline script: strict CSP.
(function () {
  var box = document.querySelector("[data-job-status]");
  if (!box) { return; }
  var url = box.getAttribute("data-job-status");
  var bar = document.getElementById("job-bar");
  var phase = document.getElementById("job-phase");
  var texts = document.getElementById("job-texts");
  function show(state) {
    if (state.finished) { window.location.reload(); return true; }
    if (state.status === "running" && state.phase === "writing") {
      bar.removeAttribute("value");  // indeterminate: the import is writing
      phase.textContent = texts.getAttribute("data-job-text-writing");
    } else if (state.status === "running") {
      bar.max = Math.max(state.total, 1);
      bar.value = state.done;
      phase.textContent = texts.getAttribute("data-job-text-checking")
        .replace("%(done)s", state.done).replace("%(total)s", state.total);
    }
    return false;
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (!state || !show(state)) { window.setTimeout(poll, 1000); } })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
