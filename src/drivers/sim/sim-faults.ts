import { DriverError } from "../driver.ts";

// Faults for the sim driver, so tests can make any step fail: a number of transient failures, every call
// failing transiently ("always"), or every call failing for good ("permanent").

export type FaultyMethod =
  | "create"
  | "start"
  | "shutdown"
  | "stop"
  | "reboot"
  | "destroy"
  | "export"
  | "import"
  | "capture"
  | "resize";
export type FaultRule = { transient: number | "always" } | { permanent: true };

const METHODS: readonly FaultyMethod[] = [
  "create",
  "start",
  "shutdown",
  "stop",
  "reboot",
  "destroy",
  "export",
  "import",
  "capture",
  "resize",
];

export class SimFaults {
  readonly #rules = new Map<FaultyMethod, FaultRule>();

  /** Parses `create:2,start:always,reboot:permanent`. */
  static parse(text: string): SimFaults {
    const faults = new SimFaults();
    for (const item of text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [method, rule] = item.split(":");
      if (!METHODS.includes(method as FaultyMethod)) {
        throw new Error(`VPS_SIM_FAULTS: unknown method "${method}" (one of ${METHODS.join(", ")})`);
      }
      if (rule === "permanent") faults.inject(method as FaultyMethod, { permanent: true });
      else if (rule === "always") faults.inject(method as FaultyMethod, { transient: "always" });
      else if (rule !== undefined && /^\d+$/.test(rule))
        faults.inject(method as FaultyMethod, { transient: Number(rule) });
      else throw new Error(`VPS_SIM_FAULTS: "${item}" must be method:N, method:always or method:permanent`);
    }
    return faults;
  }

  inject(method: FaultyMethod, rule: FaultRule): void {
    this.#rules.set(method, rule);
  }

  clear(): void {
    this.#rules.clear();
  }

  /** Throws the injected failure for this call, if any, using up one transient failure. */
  check(method: FaultyMethod): void {
    const rule = this.#rules.get(method);
    if (!rule) return;
    if ("permanent" in rule) {
      throw new DriverError("sim_fault", `injected permanent ${method} failure`, true);
    }
    if (rule.transient !== "always") {
      if (rule.transient <= 1) this.#rules.delete(method);
      else this.#rules.set(method, { transient: rule.transient - 1 });
    }
    throw new DriverError("sim_fault", `injected transient ${method} failure`);
  }
}
