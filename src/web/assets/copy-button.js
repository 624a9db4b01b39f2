// Copy buttons: <button data-copy="ID" hidden> copies the value of the field with that id and says so in the
// element ID-status. The buttons stay hidden without this script; the field can still be selected by hand.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(`${button.dataset.copy}-status`);
  if (!field) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch {
      // No clipboard API (a page not served over HTTPS): select the text and use the older command.
      field.select();
      copied = document.execCommand("copy");
    }
    if (status) status.textContent = copied ? "Copied." : "Select it and copy it by hand.";
  });
}
