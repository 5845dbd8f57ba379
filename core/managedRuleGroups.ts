/** The web ACL's rules, read by the component and by the cost estimate. */

/** The AWS managed rule groups the web ACL runs, in order, each free beyond the rule's monthly fee. */
export const MANAGED_RULE_GROUPS = [
    // Addresses Amazon threat intelligence lists as bots and attackers.
    "AWSManagedRulesAmazonIpReputationList",
    // OWASP-style protections (XSS, path traversal, bad user agents, ...).
    "AWSManagedRulesCommonRuleSet",
    // Request patterns known to exploit vulnerabilities (Log4j, Java deserialisation, ...).
    "AWSManagedRulesKnownBadInputsRuleSet",
] as const;
