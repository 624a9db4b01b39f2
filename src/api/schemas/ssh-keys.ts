import { Type } from "@sinclair/typebox";
import { Timestamp } from "./common.ts";

export const SshKeySchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    public_key: Type.String(),
    fingerprint: Type.String({ examples: ["SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"] }),
    type: Type.String({ examples: ["ssh-ed25519"] }),
    bits: Type.Integer(),
    created_at: Timestamp,
  },
  { title: "SshKey" },
);

export const CreateSshKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    public_key: Type.String({
      minLength: 1,
      maxLength: 16384,
      description: "OpenSSH public key: ed25519, ECDSA, or RSA of 2048 bits or more.",
    }),
  },
  { additionalProperties: false },
);

export const RenameSshKeyBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
