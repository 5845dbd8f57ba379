/** The NAT instance of test stacks (`natStrategy: instance`), and what recovers it. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";
import { NAT_INSTANCE_AMI_PARAMETER, NAT_INSTANCE_USER_DATA, type NatInstanceType } from "../../core/nat";

/**
 * One EC2 instance doing NAT for every AZ (test stacks): a t4g.nano costs a small fraction of a NAT
 * gateway and charges nothing per GB, but it is one instance in one AZ, with a burstable instance's
 * bandwidth (see docs/scaling.md, "NAT"). It runs the current Amazon Linux 2023 (looked up in SSM when it is
 * created; later AMI releases do not replace it: `pulumi up --replace` does), answers only the VPC's
 * own range, needs IMDSv2, and forwards traffic that is not its own (source/destination check off,
 * https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html).
 *
 * It starts after its subnet's route to the Internet gateway and the route table's associations
 * (`publicRoutes`): its user data installs `iptables-services` with dnf, and EC2 runs user data when
 * the instance launches, not at later starts (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html,
 * Considerations), so an instance that boots before the route exists fails the install (`set -e` stops
 * the script) and never becomes a NAT. Nothing in its inputs waits for the route: it names the subnet, not the route.
 */
export function createNatInstance(
    name: string,
    parent: pulumi.Resource,
    vpc: aws.ec2.Vpc,
    subnet: aws.ec2.Subnet,
    instanceType: NatInstanceType,
    vpcCidr: string,
    publicRoutes: pulumi.Resource[],
    region: string,
    alarmTopicArn: pulumi.Input<string> | undefined,
): aws.ec2.Instance {
    const sg = new aws.ec2.SecurityGroup(
        childName(name, "nat-sg"),
        {
            vpcId: vpc.id,
            description: "NAT instance: everything from inside the VPC, out to anywhere",
        },
        { parent },
    );
    new aws.vpc.SecurityGroupIngressRule(
        childName(name, "nat-in"),
        {
            securityGroupId: sg.id,
            description: "Traffic to NAT from the VPC",
            ipProtocol: "-1",
            cidrIpv4: vpcCidr,
        },
        { parent },
    );
    new aws.vpc.SecurityGroupEgressRule(
        childName(name, "nat-out"),
        {
            securityGroupId: sg.id,
            description: "NATed traffic to anywhere",
            ipProtocol: "-1",
            cidrIpv4: "0.0.0.0/0",
        },
        { parent },
    );
    const ami = aws.ssm.getParameterOutput({ name: NAT_INSTANCE_AMI_PARAMETER }, { parent });
    const instance = new aws.ec2.Instance(
        childName(name, "nat-instance"),
        {
            ami: ami.value,
            instanceType,
            subnetId: subnet.id,
            vpcSecurityGroupIds: [sg.id],
            associatePublicIpAddress: true,
            sourceDestCheck: false,
            userData: NAT_INSTANCE_USER_DATA,
            userDataReplaceOnChange: true,
            metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
            rootBlockDevice: { encrypted: true, volumeType: "gp3" },
            tags: { Name: childName(name, "nat-instance") },
        },
        { parent, dependsOn: publicRoutes, ignoreChanges: ["ami"] },
    );
    createNatInstanceRecovery(name, parent, instance, region, alarmTopicArn);
    return instance;
}

/**
 * What brings a failed NAT instance back without anyone: EC2's recover action when the host fails
 * (StatusCheckFailed_System, two failed minutes: the instance moves to new hardware keeping its ID, private
 * addresses and public IPv4 address, so the private routes stay valid; T4g supports it), and a reboot when
 * the instance itself stops answering (StatusCheckFailed_Instance, three minutes: AWS advises against the
 * same evaluation period for both, which would race)
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-recover.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/UsingAlarmActions.html). Its user data
 * saved the iptables rules and turned forwarding on for good, so a reboot or recovery comes back as a NAT.
 * Both notify the alarm topic, when given, on ALARM and on OK. A stopped instance is not failing and no alarm starts it: the stack declares the instance `running`
 * (the provider's `aws_ec2_instance_state`, `aws.ec2transitgateway.InstanceState` in @pulumi/aws), so
 * `pulumi up --refresh` sees it stopped and starts it (docs/scaling.md, "NAT").
 */
function createNatInstanceRecovery(
    name: string,
    parent: pulumi.Resource,
    instance: aws.ec2.Instance,
    region: string,
    alarmTopicArn: pulumi.Input<string> | undefined,
): void {
    const notify = alarmTopicArn === undefined ? [] : [alarmTopicArn];
    const watch = (role: string, metricName: string, minutes: number, action: string, description: string) =>
        new aws.cloudwatch.MetricAlarm(
            childName(name, role),
            {
                name: childName(name, role),
                alarmDescription: description,
                namespace: "AWS/EC2",
                metricName,
                dimensions: { InstanceId: instance.id },
                statistic: "Maximum",
                period: 60,
                evaluationPeriods: minutes,
                threshold: 0,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "missing",
                alarmActions: [action, ...notify],
                okActions: notify,
            },
            { parent },
        );
    new aws.ec2transitgateway.InstanceState(
        childName(name, "nat-running"),
        {
            instanceId: instance.id,
            state: "running",
        },
        { parent },
    );
    watch(
        "nat-recover",
        "StatusCheckFailed_System",
        2,
        `arn:aws:automate:${region}:ec2:recover`,
        "The NAT instance's host failed its status check: EC2 recovers the instance onto new hardware",
    );
    watch(
        "nat-reboot",
        "StatusCheckFailed_Instance",
        3,
        `arn:aws:automate:${region}:ec2:reboot`,
        "The NAT instance failed its own status check: EC2 reboots it",
    );
}
