// The serial console page: asks the page's own route for a single-use ticket (with the session's CSRF token),
// opens the console's WebSocket with it and joins it to an xterm.js terminal. No API token is ever in the page.

(() => {
  const box = document.getElementById("terminal");
  const status = document.getElementById("console-status");
  const reconnect = document.getElementById("console-reconnect");
  if (!box || !status || !reconnect) return;

  // What a close code means to the person at the terminal (the control plane's codes, then the standard ones).
  const CLOSED = {
    1000: "The console was closed.",
    1001: "The console was closed: the control plane is going away.",
    1011: "The console failed.",
    4000: "Closed: nothing was typed or printed for a while.",
  };

  // A serial line has no size of its own: the guest's getty assumes 80 × 24, and so does the terminal.
  const terminal = new globalThis.Terminal({
    cols: 80,
    rows: 24,
    cursorBlink: true,
    fontSize: 15,
    scrollback: 2000,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
  });
  terminal.open(box);

  let socket;
  let opened = false;

  function show(state, text) {
    status.dataset.state = state;
    status.textContent = text;
    reconnect.hidden = state === "connecting" || state === "connected";
  }

  async function ticket() {
    const res = await fetch(box.dataset.ticketUrl, {
      method: "POST",
      headers: { "X-CSRF-Token": box.dataset.csrf },
      credentials: "same-origin",
    });
    if (res.redirected) throw new Error("You were signed out: sign in again.");
    const body = await res.json().catch(() => undefined);
    if (!res.ok)
      throw new Error(body?.error?.message ?? `The console could not be opened (HTTP ${res.status}).`);
    return body.url;
  }

  async function connect() {
    show("connecting", "Connecting…");
    let url;
    try {
      url = await ticket();
    } catch (err) {
      show("refused", err.message);
      return;
    }
    opened = false;
    socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("open", () => {
      opened = true;
      show("connected", "Connected. Press Enter for a prompt.");
      terminal.focus();
    });
    socket.addEventListener("message", (event) => {
      terminal.write(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
    });
    socket.addEventListener("close", (event) => {
      socket = undefined;
      if (!opened) {
        // A refused upgrade reaches a browser as 1006 with no reason: say what can refuse it.
        show(
          "refused",
          "The console could not be opened: the server may have stopped, or has as many consoles open as it may.",
        );
        return;
      }
      show("closed", `${CLOSED[event.code] ?? `The console was closed (code ${event.code}).`}`);
      terminal.write("\r\n");
    });
  }

  terminal.onData((data) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(data);
  });
  terminal.onBinary((data) => {
    if (socket?.readyState !== WebSocket.OPEN) return;
    socket.send(Uint8Array.from(data, (c) => c.charCodeAt(0) & 255));
  });
  reconnect.addEventListener("click", () => {
    if (!socket) connect();
  });
  connect();
})();
