import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { before, describe, it } from "node:test";
import { buildCli, shellSkip, vpsShell } from "../support/vps-cli.ts";

/** Runs `file args` with the completion script in $SCRIPT; its stdout. */
function run(file: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { env, timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file}: ${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

describe("vps completion zsh and fish", () => {
  before(() => buildCli());

  const script = async (shell: string) => {
    const shellEnv = vpsShell();
    const printed = await shellEnv.vps(["completion", shell]);
    assert.equal(printed.code, 0, printed.stderr);
    return { env: { ...shellEnv.env, SCRIPT: printed.stdout } };
  };

  it("loads in zsh with compinit as the completion of vps, which completes a line typed with Tab", {
    skip: shellSkip("zsh"),
  }, async () => {
    const { env } = await script("zsh");
    const load = 'autoload -U compinit && compinit -u && source <(printf "%s" "$SCRIPT")';
    assert.equal(await run("zsh", ["-f", "-c", `${load} && print -r -- $_comps[vps]`], env), "_vps\n");
    // An interactive zsh on a pseudo-terminal (zsh/zpty): the line as zsh's line editor completes it on Tab.
    const completes = (typed: string, expected: string) =>
      run(
        "zsh",
        [
          "-f",
          "-c",
          `zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z 'PS1="> "; ${load}'
zpty -w -n z "$TYPED"$'\\t'
zpty -r z out "*$EXPECTED*" && print -r -- completed
zpty -d z`,
        ],
        { ...env, TYPED: typed, EXPECTED: expected },
      );
    assert.equal(await completes("vps ser", "vps server "), "completed\n");
    assert.equal(await completes("vps admin host dr", "vps admin host drain "), "completed\n");
    assert.equal(await completes("vps -o json server resi", "vps -o json server resize "), "completed\n");
  });

  it("loads in fish, where complete -C offers the command tree's words", {
    skip: shellSkip("fish"),
  }, async () => {
    const { env } = await script("fish");
    const complete = async (line: string) =>
      (
        await run("fish", ["--no-config", "-c", 'printf "%s" "$SCRIPT" | source; complete -C "$LINE"'], {
          ...env,
          LINE: line,
        })
      )
        .trimEnd()
        .split("\n");
    assert.deepEqual(await complete("vps ser"), ["server"]);
    assert.deepEqual(await complete("vps -o json server re"), ["reboot", "rebuild", "resize"]);
    assert.deepEqual(await complete("vps admin host dr"), ["drain"]);
    assert.ok((await complete("vps ")).includes("admin"));
  });
});
