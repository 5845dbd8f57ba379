/**
 * Berth's Pulumi program: the service catalogue deployed with this stack's configuration.
 * Stack outputs: `url`, `vpcId`, `clusterName`, `services`, `alarmTopicArn`, `dashboardUrl`, and with
 * `berth:pipeline` the pipeline's roles (see `BerthOutputs` in program/outputs.ts).
 */
import { deployBerth } from "./program";
import { catalog } from "./catalog";

export = () => deployBerth(catalog);
