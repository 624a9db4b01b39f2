import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";

export const openApiOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: "3.1.0",
    info: {
      title: "VPS.org API",
      version: "1.0.0",
      license: { name: "MIT", identifier: "MIT" },
      description:
        "Manage your VPS servers programmatically: create, configure, control and monitor virtual private " +
        "servers. Every request carries `Authorization: Bearer YOUR_API_TOKEN`. Errors share one shape: " +
        '`{"error": {"code": "…", "message": "…", "fields": {"field": ["…"]}}}`. Every POST accepts an ' +
        "`Idempotency-Key` header. Customer requests are rate limited per token (separate read and write " +
        "budgets): every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` " +
        "(seconds), and a spent budget is a 429 `rate_limited` with `Retry-After`.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "An account's API token." },
        adminToken: { type: "http", scheme: "bearer", description: "The operator's admin token." },
        hostCredential: { type: "http", scheme: "bearer", description: "A host agent's credential." },
      },
    },
    tags: [
      { name: "servers", description: "The nine endpoints of the Servers API." },
      { name: "catalogue", description: "Plans, operating systems and locations." },
      { name: "actions", description: "What each create, start, stop, reboot and delete started." },
      { name: "ssh-keys", description: "Public keys to install on new servers." },
      { name: "account", description: "The caller's account and balance." },
      { name: "admin", description: "Operator API: accounts, tokens, credit, catalogue." },
      { name: "hosts", description: "Operator API: the fleet's hypervisor hosts." },
      { name: "agent", description: "What host agents call: the join exchange." },
      { name: "operations", description: "Health checks." },
    ],
  },
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
};
