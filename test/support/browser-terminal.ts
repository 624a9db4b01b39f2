import type { Page } from "playwright-core";
import { eventually } from "./client.ts";

/** The console page's terminal as xterm.js draws it in the DOM, one line per row (the cursor's cell is a space). */
export async function terminalText(page: Page): Promise<string> {
  return (await page.locator("#terminal .xterm-rows > div").allInnerTexts()).join("\n");
}

/** Waits until the terminal's screen matches, and answers it. */
export async function terminalShows(page: Page, pattern: RegExp, timeout = 15_000): Promise<string> {
  return eventually(
    async () => {
      const text = await terminalText(page);
      return pattern.test(text) ? text : undefined;
    },
    timeout,
    `the terminal to show ${pattern}`,
  );
}
