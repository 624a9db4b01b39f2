import { Type } from "@sinclair/typebox";
import { Timestamp } from "./common.ts";

export const ConsoleTicket = Type.Object(
  {
    ticket: Type.String({ description: "Single-use; spent when the WebSocket connects." }),
    url: Type.String({
      description: "The console's WebSocket URL (`ws://` or `wss://`), with the ticket in it.",
      examples: ["wss://api.example.com/api/v1/console/vpsc_…"],
    }),
    expires_at: Timestamp,
  },
  { title: "ConsoleTicket" },
);

export const ConsoleParams = Type.Object({
  ticket: Type.String({ maxLength: 100, description: "The ticket `POST /servers/{id}/console/` answered." }),
});
