/**
 * The control plane did not renew the lease at a step that needs it held (a migrate_in about to start its
 * machine): the attempt ends with no result, and its operation resumes or gives up when the lease runs out.
 */
export class LeaseNotHeld extends Error {
  constructor() {
    super("the lease could not be renewed before the machine's start");
  }
}
