/* One CodeMirror 5 setup (static/vendor/codemirror) for the app's source editors: the scenario editor
   (scenario_editor.js) and the lesson editor (lesson_editor.js). `window.sourceEditor(textarea, mode)`
   replaces the <textarea> with an editor that numbers its lines, wraps long (Chinese) lines instead of
   scrolling sideways, types through a contenteditable area (phones get their IME and selection; a
   keyboard reaches what scrolls), lets Tab and Shift-Tab leave it (nobody is trapped; Ctrl-] / Ctrl-[
   indent), and is named and focused by the textarea's <label>. Returns the editor. */
(function () {
  "use strict";

  window.sourceEditor = function (textarea, mode) {
    var label = document.querySelector('label[for="' + textarea.id + '"]');
    var editor = window.CodeMirror.fromTextArea(textarea, {
      mode: mode,
      lineNumbers: true,
      inputStyle: "contenteditable",
      lineWrapping: true,
      indentUnit: 2,
      tabSize: 2,
      indentWithTabs: false,
      extraKeys: { "Tab": false, "Shift-Tab": false },
      screenReaderLabel: label ? label.textContent.trim() : "",
      viewportMargin: 50
    });
    editor.getWrapperElement().classList.add("source-editor");
    if (label) {
      label.addEventListener("click", function (event) {
        event.preventDefault();
        editor.focus();
      });
    }
    return editor;
  };
})();
