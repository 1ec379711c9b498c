/* The scenario editor: CodeMirror 5 (static/vendor/codemirror) over the form's <textarea>, with line
   numbers and the lines the server found problems on highlighted. Progressive enhancement: without
   this script (or CodeMirror) the plain textarea submits the same text.

   The textarea says what to do through data- attributes (the page has no inline script):
     data-editor           present on the textarea to enhance
     data-error-lines      the 1-based line numbers with a problem, separated by spaces
   Buttons .line-jump[data-line] in the error list put the cursor on their line. */
(function () {
  "use strict";

  var textarea = document.querySelector("textarea[data-editor]");
  if (!textarea || typeof window.CodeMirror !== "function" || typeof window.sourceEditor !== "function") {
    return;
  }
  var editor = window.sourceEditor(textarea, { name: "yaml-frontmatter", base: "markdown" });
  var wrapper = editor.getWrapperElement();

  // Highlight each problem line; editing a highlighted line takes its mark away.
  var marked = [];
  (textarea.getAttribute("data-error-lines") || "").split(/\s+/).forEach(function (value) {
    var line = parseInt(value, 10) - 1;
    if (isNaN(line) || line < 0 || line >= editor.lineCount()) {
      return;
    }
    var handle = editor.getLineHandle(line);
    editor.addLineClass(handle, "background", "cm-error-line");
    editor.addLineClass(handle, "gutter", "cm-error-gutter");
    marked.push(handle);
  });
  if (marked.length) {
    wrapper.classList.add("has-error-lines");
    // Show the first problem line inside the editor's own scroll area, without moving the page.
    editor.scrollTo(null, Math.max(0, editor.heightAtLine(editor.getLineNumber(marked[0]), "local") - 60));
  }
  editor.on("change", function (cm, change) {
    var first = change.from.line;
    var last = first + change.text.length - 1;
    marked = marked.filter(function (handle) {
      var line = cm.getLineNumber(handle);
      if (line === null || (line >= first && line <= last)) {
        cm.removeLineClass(handle, "background", "cm-error-line");
        cm.removeLineClass(handle, "gutter", "cm-error-gutter");
        return false;
      }
      return true;
    });
  });

  function jumpTo(lineNumber) {
    var line = Math.max(0, Math.min(editor.lineCount() - 1, lineNumber - 1));
    var position = { line: line, ch: editor.getLine(line).length };
    editor.focus();
    editor.setCursor(position);
    editor.scrollIntoView(position, 80);
    if (wrapper.scrollIntoView) {
      wrapper.scrollIntoView({ block: "nearest" });
    }
  }

  document.querySelectorAll(".line-jump[data-line]").forEach(function (button) {
    button.addEventListener("click", function () {
      jumpTo(parseInt(button.getAttribute("data-line"), 10) || 1);
    });
  });
})();
