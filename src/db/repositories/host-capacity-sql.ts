import { type Expression, type SqlBool, sql } from "kysely";
import { type Amounts, RESOURCES, type Resource } from "../../domain/host-capacity.ts";

// The fit rule of src/domain/host-capacity.ts in SQL, evaluated against the row as it is when the UPDATE writes
// it: two concurrent claims on one host cannot both pass it. In bigint, since a total times a ratio in
// thousandths outgrows 32 bits.

function usableMilli(r: Resource, reserved: Expression<number> | number = sql.ref(`${r}_reserved`)) {
  return sql<number>`(cast(${sql.ref(`${r}_total`)} as bigint) - ${reserved}) * ${sql.ref(`${r}_ratio_milli`)}`;
}

export function fitsSql(requested: Amounts): Expression<SqlBool> {
  const each = RESOURCES.map(
    (r) => sql`${usableMilli(r)} >= (cast(${sql.ref(`${r}_allocated`)} as bigint) + ${requested[r]}) * 1000`,
  );
  return sql<SqlBool>`${sql.join(each, sql` and `)}`;
}

/** A host's free memory in thousandths: what spread and pack order candidates by. */
export const FREE_MEMORY_MILLI = sql<number>`${usableMilli("memory_mb")} - cast(memory_mb_allocated as bigint) * 1000`;
