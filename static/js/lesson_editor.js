/* The lesson editor (templates/authoring/lesson.html): CodeMirror 5 over the body's <textarea> with line
   numbers and the server's problem lines marked (as the scenario editor), a live preview rendered by the
   server's lesson renderer, Edit/Preview tabs on a phone (side by side on a desktop), and uploads that
   put the file's Markdown line where the cursor is. Progressive enhancement: without this script the
   plain textarea submits the same text and the preview shows the last saved version.

   The textarea says what to do through data- attributes (the page has no inline script):
     data-editor="lesson"   enhance it
     data-error-lines       1-based line numbers with a problem, separated by spaces
     data-preview-url       POST {course, markdown} -> {html, errors: [{line, message}]}
     data-course            the course's slug (its media files resolve the pictures)
     data-csrf              the CSRF token, sent in the X-CSRFToken header */
(function () {
  "use strict";

  var textarea = document.querySelector("textarea[data-editor=lesson]");
  if (!textarea) {
    return;
  }
  var data = textarea.dataset;
  var previewBox = document.getElementById("preview");
  var previewStatus = document.getElementById("preview-status");
  var previewErrors = document.getElementById("preview-errors");
  var split = document.getElementById("editor-split");
  var editor = null;
  var wrapper = null;

  if (typeof window.CodeMirror === "function" && typeof window.sourceEditor === "function") {
    editor = window.sourceEditor(textarea, "markdown");
    wrapper = editor.getWrapperElement();
  }

  // --- problem lines: the server's (from a refused save) and the preview's -----------------------------
  var marked = [];

  function clearMarks(kind) {
    marked = marked.filter(function (mark) {
      if (kind && mark.kind !== kind) {
        return true;
      }
      editor.removeLineClass(mark.handle, "background", "cm-error-line");
      editor.removeLineClass(mark.handle, "gutter", "cm-error-gutter");
      return false;
    });
  }

  function markLine(lineNumber, kind) {
    if (!editor) {
      return;
    }
    var line = lineNumber - 1;
    if (isNaN(line) || line < 0 || line >= editor.lineCount()) {
      return;
    }
    var handle = editor.getLineHandle(line);
    editor.addLineClass(handle, "background", "cm-error-line");
    editor.addLineClass(handle, "gutter", "cm-error-gutter");
    marked.push({ handle: handle, kind: kind });
  }

  if (editor) {
    (data.errorLines || "").split(/\s+/).forEach(function (value) {
      markLine(parseInt(value, 10), "server");
    });
    if (marked.length) {
      wrapper.classList.add("has-error-lines");
      editor.scrollTo(null, Math.max(0, editor.heightAtLine(editor.getLineNumber(marked[0].handle), "local") - 60));
    }
    editor.on("change", function (cm, change) {
      var first = change.from.line;
      var last = first + change.text.length - 1;
      marked = marked.filter(function (mark) {
        var line = cm.getLineNumber(mark.handle);
        if (line === null || (line >= first && line <= last)) {
          cm.removeLineClass(mark.handle, "background", "cm-error-line");
          cm.removeLineClass(mark.handle, "gutter", "cm-error-gutter");
          return false;
        }
        return true;
      });
    });
  }

  function jumpTo(lineNumber) {
    if (!editor) {
      textarea.focus();
      return;
    }
    showTab("edit");
    var line = Math.max(0, Math.min(editor.lineCount() - 1, lineNumber - 1));
    var position = { line: line, ch: editor.getLine(line).length };
    editor.focus();
    editor.setCursor(position);
    editor.scrollIntoView(position, 80);
    if (wrapper.scrollIntoView) {
      wrapper.scrollIntoView({ block: "nearest" });
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".line-jump[data-line]") : null;
    if (button) {
      jumpTo(parseInt(button.getAttribute("data-line"), 10) || 1);
    }
  });

  // --- Edit / Preview tabs (a phone shows one at a time; CSS shows both side by side on a desktop) ------
  var tabs = split ? split.querySelector(".editor-tabs") : null;
  var tabEdit = document.getElementById("tab-edit");
  var tabPreview = document.getElementById("tab-preview");

  function showTab(which) {
    if (!tabs) {
      return;
    }
    var preview = which === "preview";
    split.classList.toggle("show-preview", preview);
    tabEdit.setAttribute("aria-selected", String(!preview));
    tabPreview.setAttribute("aria-selected", String(preview));
    tabEdit.tabIndex = preview ? -1 : 0;
    tabPreview.tabIndex = preview ? 0 : -1;
    if (!preview && editor) {
      editor.refresh();
    }
    if (preview) {
      requestPreview(0);
    }
  }

  if (tabs) {
    tabs.hidden = false;
    split.classList.add("tabs-ready");
    tabEdit.addEventListener("click", function () { showTab("edit"); });
    tabPreview.addEventListener("click", function () { showTab("preview"); });
    tabs.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        var next = document.activeElement === tabEdit ? tabPreview : tabEdit;
        showTab(next === tabPreview ? "preview" : "edit");
        next.focus();
        event.preventDefault();
      }
    });
  }

  // --- the live preview ----------------------------------------------------------------------------------
  var timer = null;
  var sent = 0; // the number of the last request; an older answer arriving late is ignored
  var lastText = null;

  function text() {
    return editor ? editor.getValue() : textarea.value;
  }

  function setStatus(message) {
    if (previewStatus) {
      previewStatus.textContent = message || "";
    }
  }

  function showErrors(errors) {
    if (!previewErrors) {
      return;
    }
    previewErrors.textContent = "";
    if (editor) {
      clearMarks("preview");
    }
    (errors || []).forEach(function (error) {
      var item = document.createElement("li");
      if (error.line) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "line-jump";
        button.setAttribute("data-line", String(error.line));
        button.textContent = (previewErrors.getAttribute("data-line-label") || "Line %s").replace("%s", error.line);
        item.appendChild(button);
        markLine(error.line, "preview");
      }
      var message = document.createElement("span");
      message.className = "error-message";
      message.textContent = error.message;
      item.appendChild(message);
      previewErrors.appendChild(item);
    });
    previewErrors.hidden = !(errors && errors.length);
  }

  function sendPreview() {
    var markdown = text();
    if (markdown === lastText || !window.fetch || !data.previewUrl) {
      return;
    }
    lastText = markdown;
    var number = ++sent;
    setStatus(previewBox.getAttribute("data-updating") || "…");
    window.fetch(data.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": data.csrf, "Accept": "application/json" },
      body: JSON.stringify({ course: data.course, markdown: markdown })
    }).then(function (reply) {
      return reply.json().catch(function () { return null; }).then(function (body) {
        return { ok: reply.ok, body: body };
      });
    }).then(function (result) {
      if (number !== sent) {
        return;
      }
      if (!result.ok || !result.body || typeof result.body.html !== "string") {
        lastText = null; // try again on the next change
        setStatus(previewBox.getAttribute("data-failed") || "!");
        return;
      }
      // The HTML is the server's sanitized rendering (lms/rendering.py), the same as the lesson page's.
      previewBox.innerHTML = result.body.html;
      showErrors(result.body.errors);
      setStatus("");
      previewBox.setAttribute("data-rendered", String(number));
    }).catch(function () {
      if (number === sent) {
        lastText = null;
        setStatus(previewBox.getAttribute("data-failed") || "!");
      }
    });
  }

  function requestPreview(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(sendPreview, delay === undefined ? 500 : delay);
  }

  if (editor) {
    editor.on("change", function () { requestPreview(); });
  } else {
    textarea.addEventListener("input", function () { requestPreview(); });
  }
  requestPreview(0);

  // --- uploads from the editor: the file's line goes where the cursor is ------------------------------
  function insert(markdown) {
    if (editor) {
      // on a line of its own, with a blank line around it (Markdown makes it its own paragraph)
      var cursor = editor.getCursor();
      var line = editor.getLine(cursor.line);
      var before = cursor.ch > 0 ? "\n\n" : "";
      var after = line.slice(cursor.ch).trim() ? "\n\n" : "\n";
      editor.replaceSelection(before + markdown + after);
      editor.focus();
    } else {
      textarea.value += "\n\n" + markdown + "\n";
    }
    requestPreview(0);
  }

  document.querySelectorAll(".insert-media[data-name]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      insert("![" + (button.getAttribute("data-alt") || "") + "](" + button.getAttribute("data-name") + ")");
    });
  });

  var uploadForm = document.getElementById("upload-form");
  var uploadStatus = document.getElementById("upload-status");
  if (uploadForm && window.fetch && window.FormData) {
    uploadForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = uploadForm.querySelector("input[type=file]");
      if (!input || !input.files || !input.files.length) {
        input && input.focus();
        return;
      }
      var button = uploadForm.querySelector("button[type=submit]");
      button.disabled = true;
      uploadStatus.textContent = uploadForm.getAttribute("data-uploading") || "…";
      window.fetch(uploadForm.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": data.csrf },
        body: new FormData(uploadForm)
      }).then(function (reply) {
        return reply.json().catch(function () { return null; }).then(function (body) {
          return { ok: reply.ok, status: reply.status, body: body };
        });
      }).then(function (result) {
        button.disabled = false;
        if (result.ok && result.body && result.body.markdown) {
          insert(result.body.markdown);
          lastText = null;
          uploadStatus.textContent = (uploadForm.getAttribute("data-done") || "%s").replace("%s", result.body.name);
          input.value = "";
        } else {
          uploadStatus.textContent = (result.body && result.body.error) ||
            (result.status === 413 ? uploadForm.getAttribute("data-too-big") : uploadForm.getAttribute("data-failed")) || "!";
        }
      }).catch(function () {
        button.disabled = false;
        uploadStatus.textContent = uploadForm.getAttribute("data-failed") || "!";
      });
    });
  }
})();
