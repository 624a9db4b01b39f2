import { Duplex } from "node:stream";

/**
 * A simulated machine's serial console, behaving like a getty: it prints a `login:` prompt, echoes what is
 * typed, asks for a password (not echoed) once a name is entered, and refuses every login. Enough for a
 * terminal to show something real without QEMU.
 */
export class SimConsole extends Duplex {
  readonly #name: string;
  #line = "";
  #asking: "login" | "password" = "login";

  constructor(name: string) {
    super();
    this.#name = name;
    this.push(`\r\n${name} login: `);
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    for (const char of chunk.toString("utf8")) this.#type(char);
    done();
  }

  override _final(done: (error?: Error | null) => void): void {
    this.push(null);
    done();
  }

  #type(char: string): void {
    if (char === "\r" || char === "\n") {
      if (char === "\n" && this.#line === "" && this.#asking === "login") return;
      this.push("\r\n");
      if (this.#asking === "login" && this.#line !== "") {
        this.#asking = "password";
        this.push("Password: ");
      } else if (this.#asking === "password") {
        this.#asking = "login";
        this.push(`\r\nLogin incorrect\r\n${this.#name} login: `);
      } else {
        this.push(`${this.#name} login: `);
      }
      this.#line = "";
      return;
    }
    if (char === "\x7f" || char === "\b") {
      if (this.#line.length > 0 && this.#asking === "login") this.push("\b \b");
      this.#line = this.#line.slice(0, -1);
      return;
    }
    this.#line += char;
    if (this.#asking === "login") this.push(char);
  }
}
