import { Command } from "commander";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { printOutput } from "../output.ts";
import { customerClient } from "../session.ts";

export const PLAN_TABLE = {
  columns: ["id", "name", "vcpus", "memory", "storage", "price_monthly", "locations"],
};
export const OS_TABLE = { columns: ["id", "name", "distribution", "version"] };
export const LOCATION_TABLE = { columns: ["id", "code", "name", "country"] };

/** `vps plan list`, `vps os list`, `vps location list`: what a server can be made of. */
export function catalogueCommands(): Command[] {
  const list = (
    name: string,
    description: string,
    path: "/api/v1/plans/" | "/api/v1/os/" | "/api/v1/locations/",
    table: { columns: string[] },
  ) => {
    const command = new Command(name).description(description);
    command.addCommand(
      example(new Command("list").description(`list ${description}`), `vps ${name} list`).action(
        async (_options: unknown, cmd: Command) => {
          const globals = globalOptions(cmd);
          const vps = customerClient(globals);
          printOutput((await vps.GET(path)).data?.results, globals, table);
        },
      ),
    );
    return command;
  };
  return [
    list("plan", "the plans servers can have", "/api/v1/plans/", PLAN_TABLE),
    list("os", "the operating systems servers can run", "/api/v1/os/", OS_TABLE),
    list("location", "the locations servers can be in", "/api/v1/locations/", LOCATION_TABLE),
  ];
}
