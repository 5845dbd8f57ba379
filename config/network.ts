/** The stack's network and edge: the VPC's range, the zones, the domain and its certificate, the edge's mode. */
import { MIN_SUBNET_PREFIX, overlaps, parseCidr, subnetBits, type Ipv4Cidr } from "../core/cidr";
import { albEdgeCatalog, albEdgeProblems, type CatalogService, type Edge } from "../catalog";
import { ConfigError } from "./errors";
import { CERTIFICATE_REGION, MAX_CERTIFICATE_NAMES, RESERVED_RANGES } from "./parsers";
import type { Parsed } from "./read";
import type { Settings } from "./types";

/** A value as an error shows it: never one set with `--secret`. */
export type Show = (key: string, value: unknown) => string;

/** The VPC's range: a network of the right size for `azCount`, with unicast addresses. */
export function vpcProblems(ns: string, parsed: Parsed, show: Show): string[] {
    if (parsed.vpcCidr === undefined) {
        return [];
    }
    const cidr = parseCidr(parsed.vpcCidr);
    const azCount = parsed.azCount ?? 2;
    const shown = show("vpcCidr", parsed.vpcCidr);
    if (typeof cidr === "string") {
        return [`${ns}vpcCidr is ${shown}: ${cidr}`];
    }
    if (cidr.prefix < 16 || cidr.prefix + subnetBits(azCount) > MIN_SUBNET_PREFIX) {
        return [
            `${ns}vpcCidr is ${shown}; allowed: a prefix from /16 to ` +
                `/${MIN_SUBNET_PREFIX - subnetBits(azCount)} for ${azCount} AZs (AWS VPCs are /16 to /28, subnets at least /${MIN_SUBNET_PREFIX})`,
        ];
    }
    return RESERVED_RANGES.filter(([range]) => overlaps(cidr, parseCidr(range) as Ipv4Cidr)).map(
        ([range, what]) =>
            `${ns}vpcCidr is ${shown}, which overlaps ${range} (${what}); allowed: a range of unicast addresses, best from 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`,
    );
}

/** Whether the stack serves HTTPS: with a certificate of its own, or one Berth makes in the hosted zone. */
export function servesHttps(parsed: Parsed): boolean {
    return parsed.certificateArn !== undefined || parsed.hostedZoneId !== undefined;
}

/** The zones, the domain, its hosted zone and certificate, and the names the certificate holds. */
export function domainProblems(ns: string, parsed: Parsed, services: readonly CatalogService[], region: string | undefined, show: Show): string[] {
    const problems: string[] = [];
    const certificateRegion = parsed.certificateArn === undefined ? undefined : CERTIFICATE_REGION.exec(parsed.certificateArn)?.[1];
    if (certificateRegion !== undefined && region && certificateRegion !== region) {
        problems.push(
            `${ns}certificateArn is ${show("certificateArn", parsed.certificateArn)}, a certificate in ${certificateRegion}; allowed: a certificate in the stack's region ${region} (an ALB uses ACM certificates of its own region)`,
        );
    }
    if (parsed.availabilityZoneIds !== undefined && parsed.azCount !== undefined && parsed.availabilityZoneIds.length !== parsed.azCount) {
        problems.push(
            `${ns}availabilityZoneIds lists ${parsed.availabilityZoneIds.length} zones (${parsed.availabilityZoneIds.join(", ")}) but ${ns}azCount is ${parsed.azCount}; allowed: exactly azCount zone IDs`,
        );
    }
    if (parsed.domain !== undefined && !servesHttps(parsed)) {
        problems.push(
            `${ns}domain is ${show("domain", parsed.domain)} but neither ${ns}hostedZoneId nor ${ns}certificateArn is set; allowed: a domain with the Route 53 hosted zone that holds it (Berth makes the certificate), or with a certificate of your own`,
        );
    }
    if (parsed.hostedZoneId !== undefined && parsed.domain === undefined) {
        problems.push(`${ns}hostedZoneId is set but ${ns}domain is not; allowed: set ${ns}domain to the name in that zone the ALB answers on`);
    }
    const subdomains = services.filter((s) => s.subdomain !== undefined);
    const subdomainOnly = subdomains.filter((s) => s.pathPatterns.length === 0).map((s) => s.name);
    if (parsed.domain === undefined && subdomainOnly.length > 0) {
        problems.push(
            `${ns}domain is not set, but ${subdomainOnly.join(", ")} answer only on a subdomain of it; allowed: set ${ns}domain (and ${ns}hostedZoneId)`,
        );
    }
    const hostNames = parsed.domain === undefined ? [] : [parsed.domain, ...subdomains.map((s) => `${s.subdomain}.${parsed.domain}`)];
    if (hostNames.length > MAX_CERTIFICATE_NAMES) {
        problems.push(
            `${ns}domain ${show("domain", parsed.domain)} with the catalogue's subdomains makes ${hostNames.length} names; allowed: at most ${MAX_CERTIFICATE_NAMES}, the names one ACM certificate holds by default`,
        );
    }
    return problems;
}

/** The edge, and the catalogue as deployed behind it: with `alb`, the routed backends become public services. */
export function edgeOf(
    ns: string,
    parsed: Parsed,
    services: readonly CatalogService[],
    problems: string[],
): { edge: Edge; deployed: readonly CatalogService[] } {
    const edge = parsed.edge ?? "gateway";
    if (edge === "alb") {
        const refusals = albEdgeProblems(services, { https: servesHttps(parsed), jwt: parsed.edgeJwt !== undefined });
        problems.push(...refusals.map((r) => `${ns}edge is "alb", but ${r}`));
        return { edge, deployed: refusals.length === 0 ? albEdgeCatalog(services) : services };
    }
    if (parsed.edgeJwt !== undefined) {
        problems.push(`${ns}edgeJwt is set while ${ns}edge is "gateway", which reads its own AUTH_* secrets; allowed: ${ns}edgeJwt only with ${ns}edge "alb"`);
    }
    return { edge, deployed: services };
}

/** The region's availability zones as `aws.getAvailabilityZones` lists them: names and IDs, in the same order. */
export interface RegionZones {
    names: readonly string[];
    zoneIds: readonly string[];
}

/**
 * Picks the zones the VPC spans, checking what can only be known from the region: how many AZs it offers,
 * and whether the pinned zone IDs exist there. Zone names map to different physical zones in each account;
 * zone IDs do not, which is why a team pins IDs (Fargate runs only in some zones of some regions).
 */
export function chooseZones(settings: Settings, region: RegionZones): string[] {
    const key = `${settings.project}:`;
    if (settings.availabilityZoneIds) {
        const missing = settings.availabilityZoneIds.filter((id) => !region.zoneIds.includes(id));
        if (missing.length > 0) {
            throw new ConfigError([
                `${key}availabilityZoneIds is ${JSON.stringify(settings.availabilityZoneIds)}, but ${settings.region} offers no zone ` +
                    `${missing.join(", ")}; allowed: ${region.zoneIds.join(", ")}`,
            ]);
        }
        return settings.availabilityZoneIds.map((id) => region.names[region.zoneIds.indexOf(id)]);
    }
    if (settings.azCount > region.names.length) {
        throw new ConfigError([
            `${key}azCount is ${settings.azCount}, but ${settings.region} offers ${region.names.length} ` +
                `availability zones (${region.names.join(", ")}); allowed: 2 to ${region.names.length}`,
        ]);
    }
    return region.names.slice(0, settings.azCount);
}
