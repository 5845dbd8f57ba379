import { CliError } from "./context";

/** No stack to read (none selected, or the named one does not exist): `status` and `logs` fall back to the local run. */
export class NoStackError extends CliError {}
