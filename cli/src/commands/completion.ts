import { Argument, Command } from "commander";
import { completionScript, type Shell } from "../completion-script.ts";
import { example } from "../help-example.ts";

export function completionCommand(program: Command): Command {
  return example(
    new Command("completion")
      .description("print a shell completion script")
      .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh", "fish"])),
    "source <(vps completion bash)        # in ~/.bashrc",
    "source <(vps completion zsh)         # in ~/.zshrc",
    "vps completion fish > ~/.config/fish/completions/vps.fish",
  ).action((shell: Shell) => {
    process.stdout.write(completionScript(program, shell));
  });
}
