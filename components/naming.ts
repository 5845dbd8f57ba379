/**
 * Naming rules shared by every component.
 *
 * Logical names derive from the component's name and a role, plus an index where there are several
 * (`berth-public-0`): stable inputs only, never an AZ name or an Output, so that nothing is replaced
 * when a region's AZ list changes order.
 */

/** The logical name of a component's child: `${parent}-${role}` or `${parent}-${role}-${index}`. */
export function childName(parent: string, role: string, index?: number): string {
    return index === undefined ? `${parent}-${role}` : `${parent}-${role}-${index}`;
}
