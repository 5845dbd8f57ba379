import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";

export interface DnsCertificateArgs {
    /** The names the certificate holds: the first is its domain, the rest its alternative names. */
    names: string[];
    /** The Route 53 public hosted zone that holds every name, where the validation records go. */
    zoneId: pulumi.Input<string>;
}

/**
 * An ACM certificate validated by DNS in the stack's hosted zone.
 *
 * Creates: the certificate (RSA 2048, acm-certificate-rsa-check), one CNAME validation record per name, and
 * an `aws.acm.CertificateValidation` that waits until ACM has issued it, so that the HTTPS listener, which
 * takes `certificateArn` from it, is created only with an issued certificate
 * (https://www.pulumi.com/registry/packages/aws/api-docs/acm/certificatevalidation/). ACM renews such a
 * certificate by itself while the records stay (https://docs.aws.amazon.com/acm/latest/userguide/dns-renewal-validation.html).
 */
export class DnsCertificate extends pulumi.ComponentResource {
    /** The certificate's ARN, known once it is issued. */
    public readonly certificateArn: pulumi.Output<string>;

    constructor(name: string, args: DnsCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:dns:DnsCertificate", name, {}, opts);
        if (args.names.length === 0 || new Set(args.names).size !== args.names.length) {
            throw new Error(`DnsCertificate "${name}": "names" must list distinct names, got ${JSON.stringify(args.names)}`);
        }
        const [domainName, ...alternatives] = args.names;
        const certificate = new aws.acm.Certificate(
            childName(name, "cert"),
            {
                domainName,
                subjectAlternativeNames: alternatives.length > 0 ? alternatives : undefined,
                validationMethod: "DNS",
                keyAlgorithm: "RSA_2048",
            },
            { parent: this },
        );
        // One record per name, looped over the plain names; each reads its own entry of the computed options.
        const records = args.names.map((host, i) => {
            const option = certificate.domainValidationOptions.apply((options) => {
                const found = options.find((o) => o.domainName === host);
                if (!found) {
                    throw new Error(`DnsCertificate "${name}": ACM gave no validation record for ${host}`);
                }
                return found;
            });
            return new aws.route53.Record(
                childName(name, "validation", i),
                {
                    zoneId: args.zoneId,
                    name: option.resourceRecordName,
                    type: option.resourceRecordType,
                    records: [option.resourceRecordValue],
                    ttl: 300,
                    // Names under one domain can share a record; the second write must not fail.
                    allowOverwrite: true,
                },
                { parent: this },
            );
        });
        const validation = new aws.acm.CertificateValidation(
            childName(name, "validated"),
            {
                certificateArn: certificate.arn,
                validationRecordFqdns: records.map((r) => r.fqdn),
            },
            { parent: this },
        );
        this.certificateArn = validation.certificateArn;
        this.registerOutputs({ certificateArn: this.certificateArn });
    }
}
