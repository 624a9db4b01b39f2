// Print buttons: <button data-print hidden> prints the page (the stylesheet's print rules leave out the
// navigation and the buttons). They stay hidden without this script; the browser's own Print still works.
for (const button of document.querySelectorAll("button[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
