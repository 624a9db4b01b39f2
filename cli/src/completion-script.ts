import type { Command } from "commander";

/** Every command path of the tree (`""`, `"server"`, `"server list"`…) and the words that may follow it. */
export function completionTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const globals = program.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
  const walk = (command: Command, path: string[]) => {
    const words = [
      ...command.commands.flatMap((c) => [c.name(), ...c.aliases()]),
      ...command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))),
      ...(path.length ? globals : []),
      "--help",
    ];
    table.set(path.join(" "), [...new Set(words)]);
    for (const sub of command.commands)
      for (const name of [sub.name(), ...sub.aliases()]) walk(sub, [...path, name]);
  };
  walk(program, []);
  return table;
}

// The global options that take a value: their value is not a command name.
const VALUE_OPTIONS = "--context|-o|--output|--columns";

function bash(table: Map<string, string[]>): string {
  const cases = [...table].map(([path, words]) => `    "${path}") words="${words.join(" ")}" ;;`).join("\n");
  return `# vps completion for bash: source <(vps completion bash)
_vps_completion() {
  local path="" word words i cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      ${VALUE_OPTIONS}) ((i++)); continue ;;
      -*) continue ;;
    esac
    if _vps_words "\${path:+$path }$word" >/dev/null; then path="\${path:+$path }$word"; fi
  done
  words="$(_vps_words "$path")"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_vps_words() {
  local words
  case "$1" in
${cases}
    *) return 1 ;;
  esac
  echo "$words"
}
complete -F _vps_completion vps
`;
}

function zsh(table: Map<string, string[]>): string {
  const entries = [...table]
    .map(([path, words]) => `  ${JSON.stringify(path)} ${JSON.stringify(words.join(" "))}`)
    .join("\n");
  return `#compdef vps
# vps completion for zsh: source <(vps completion zsh)
typeset -gA _vps_table
_vps_table=(
${entries}
)
_vps() {
  # Not "path": zsh ties that to PATH.
  local cmd="" word i
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    case "$word" in
      ${VALUE_OPTIONS}) ((i++)); continue ;;
      -*) continue ;;
    esac
    if (( \${+_vps_table[\${cmd:+$cmd }$word]} )); then cmd="\${cmd:+$cmd }$word"; fi
  done
  compadd -- \${=_vps_table[$cmd]}
}
compdef _vps vps
`;
}

function fish(table: Map<string, string[]>): string {
  const cases = [...table]
    .map(
      ([path, words]) =>
        `        case ${JSON.stringify(path)}\n            printf '%s\\n' ${words.map((w) => `'${w}'`).join(" ")}`,
    )
    .join("\n");
  return `# vps completion for fish: vps completion fish | source
function __vps_path
    set -l path ""
    set -l skip 0
    for word in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $word
            case ${VALUE_OPTIONS.split("|").join(" ")}
                set skip 1
                continue
            case '-*'
                continue
        end
        set -l next (string trim -- "$path $word")
        if __vps_words "$next" >/dev/null
            set path $next
        end
    end
    echo $path
end
function __vps_words
    switch "$argv[1]"
${cases}
        case '*'
            return 1
    end
end
complete -c vps -f -a '(__vps_words (__vps_path))'
`;
}

export type Shell = "bash" | "zsh" | "fish";

/** A completion script for `shell`, made from the command tree, so a new command completes without more code. */
export function completionScript(program: Command, shell: Shell): string {
  const table = completionTable(program);
  return shell === "bash" ? bash(table) : shell === "zsh" ? zsh(table) : fish(table);
}
