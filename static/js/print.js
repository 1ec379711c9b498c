// Buttons marked data-print open the browser's print dialog (print to paper or save as PDF).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
