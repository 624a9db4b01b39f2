/** A terminal that moves its cursor: not a pipe, and not TERM=dumb (Emacs' shell, some CI logs). */
export function capableTerminal(stream: NodeJS.WriteStream, env = process.env): boolean {
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** Colour only on such a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colourEnabled(stream: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  return capableTerminal(stream, env) && !env.NO_COLOR;
}

const CODES = { bold: [1, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], dim: [2, 22] } as const;
export type Style = keyof typeof CODES;

export function paint(text: string, style: Style, enabled: boolean): string {
  if (!enabled) return text;
  const [open, close] = CODES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

const STATUS_STYLES: Record<string, Style> = {
  active: "green",
  success: "green",
  enabled: "green",
  error: "red",
  down: "red",
  suspended: "red",
  running: "yellow",
  provisioning: "yellow",
  starting: "yellow",
  stopping: "yellow",
  rebooting: "yellow",
  draining: "yellow",
  stopped: "dim",
  disabled: "dim",
};

/** A status word in the colour of what it means (green done, yellow under way, red failed). */
export function paintStatus(text: string, enabled: boolean): string {
  const style = STATUS_STYLES[text];
  return style ? paint(text, style, enabled) : text;
}
