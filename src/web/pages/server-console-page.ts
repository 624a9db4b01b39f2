import type { ServerDetails } from "../../db/repositories/server-repository.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";

/**
 * A server's serial console: an xterm.js terminal that /assets/serial-console.js joins to the console's WebSocket,
 * with a ticket it asks this page's route for (the browser holds no API token).
 */
export function serverConsolePage(frame: PageFrame, server: ServerDetails): Html {
  return layout(
    {
      ...frame,
      title: `Console of ${server.name}`,
      current: "/servers",
      styles: ["xterm.css"],
      scripts: ["xterm.js", "serial-console.js"],
    },
    html`<p class="crumbs"><a href="/servers">Servers</a> › ${server.name}</p>
<h1>Console of ${server.name}</h1>
<p class="hint">The server's first serial port, as if a screen were plugged into it: it shows what the server prints from
now on, so press Enter for a fresh prompt. Closed after a while with nothing typed or printed.</p>
<div class="console-bar">
  <p id="console-status" class="console-status" role="status" aria-live="polite" data-state="connecting">Connecting…</p>
  <button type="button" id="console-reconnect" hidden>Reconnect</button>
</div>
<div class="terminal-wrap">
  <div id="terminal" data-ticket-url="/servers/${server.id}/console/ticket" data-csrf="${frame.csrf}"
    aria-label="Serial console of ${server.name}"></div>
</div>
<p class="hint"><a href="/servers/${server.id}/graphs">Usage graphs</a></p>`,
  );
}
