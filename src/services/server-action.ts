import type { ServerStatus } from "../domain/server-status.ts";

/** What a request that queues an action on a server answers: the power actions' shape. */
export interface ServerAction {
  message: string;
  actionId: number;
  server: { id: number; name: string; status: ServerStatus };
}
