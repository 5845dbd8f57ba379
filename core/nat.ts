/** How the private subnets reach the internet: the NAT strategies, and what a NAT instance runs. */

/**
 * `single`: one NAT gateway for the VPC. `perAz`: one per AZ (an AZ outage cuts no other AZ off).
 * `instance`: one small EC2 instance doing NAT, for test stacks (`NatInstance` in components/network/network.ts).
 */
export const NAT_STRATEGIES = ["single", "perAz", "instance"] as const;
export type NatStrategy = (typeof NAT_STRATEGIES)[number];

/**
 * Graviton burstable types the NAT instance may be: the AMI is ARM64. A t4g.nano has 0.032 Gbps baseline
 * bandwidth and bursts to 5 Gbps (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html#gp_network).
 */
export const NAT_INSTANCE_TYPES = ["t4g.nano", "t4g.micro", "t4g.small", "t4g.medium", "t4g.large"] as const;
export type NatInstanceType = (typeof NAT_INSTANCE_TYPES)[number];

/**
 * The public SSM parameter naming the current Amazon Linux 2023 ARM64 AMI
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters-ami.html).
 */
export const NAT_INSTANCE_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";

/**
 * How Amazon Linux becomes a NAT: IP forwarding on, masquerading out of the default interface, the FORWARD
 * chain emptied, all kept across reboots; AWS's own steps for a NAT AMI
 * (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html#create-nat-ami), as AWS
 * CDK's `NatInstanceProviderV2` runs them (aws-cdk-lib/aws-ec2/lib/nat.ts).
 */
export const NAT_INSTANCE_USER_DATA = [
    "#!/bin/bash",
    "set -euo pipefail",
    "dnf install -y iptables-services",
    "systemctl enable --now iptables",
    "echo 'net.ipv4.ip_forward=1' > /etc/sysctl.d/90-berth-nat.conf",
    "sysctl -p /etc/sysctl.d/90-berth-nat.conf",
    "iface=$(ip route show default | awk '{print $5; exit}')",
    'iptables -t nat -A POSTROUTING -o "$iface" -j MASQUERADE',
    "iptables -F FORWARD",
    "service iptables save",
    "",
].join("\n");

/** How many NAT gateways a strategy makes over `azCount` AZs (a NAT instance is none). */
export function natGatewayCount(nat: NatStrategy, azCount: number): number {
    return nat === "perAz" ? azCount : nat === "single" ? 1 : 0;
}
