/**
 * Roles, one vocabulary for state, genesis, RPC and the CLI.
 *
 * Account roles are bits of one integer in the account record (state/accounts.ts), named
 * in camelCase in code and RPC (`bitsToRoles`) and in kebab-case in genesis.json and on
 * the command line. A bit, once given, is never reused.
 */
export const Role = {
  dso: 1,
  aggregator: 2,
  marketOperator: 4,
  validator: 8,
  issuer: 16,
  /** Posts zones' grid carbon intensity (tx grid-intensity). */
  oracle: 32,
} as const;
export type RoleName = keyof typeof Role;

/** Every role, in bit order (the order lists of roles are written in). */
export const ROLE_NAMES: readonly RoleName[] = Object.keys(Role) as RoleName[];

/** Account roles as spelled in genesis.json (kebab-case, like the rest of the CLI). */
export const ROLE_JSON_NAMES = ['dso', 'aggregator', 'market-operator', 'validator', 'issuer', 'oracle'] as const;
export type RoleJsonName = (typeof ROLE_JSON_NAMES)[number];

export const ROLE_FROM_JSON: Readonly<Record<RoleJsonName, RoleName>> = {
  dso: 'dso',
  aggregator: 'aggregator',
  'market-operator': 'marketOperator',
  validator: 'validator',
  issuer: 'issuer',
  oracle: 'oracle',
};

export const ROLE_TO_JSON: Readonly<Record<RoleName, RoleJsonName>> = {
  dso: 'dso',
  aggregator: 'aggregator',
  marketOperator: 'market-operator',
  validator: 'validator',
  issuer: 'issuer',
  oracle: 'oracle',
};

export function rolesToBits(names: readonly RoleName[]): number {
  let bits = 0;
  for (const n of names) bits |= Role[n];
  return bits;
}

export function bitsToRoles(bits: number): RoleName[] {
  return ROLE_NAMES.filter((n) => (bits & Role[n]) !== 0);
}

/**
 * The roles of the energy ledger, granted in genesis and afterwards by validator vote (tx
 * role-vote). `validator` is not among them: the validator set changes only by
 * validator-vote, which keeps the role bit in step with the set.
 */
export const VOTABLE_ROLES: readonly RoleName[] = ['dso', 'aggregator', 'marketOperator', 'issuer', 'oracle'];

export function hasRole(bits: number, role: RoleName): boolean {
  return (bits & Role[role]) !== 0;
}

/** The role whose bit is `bit` (exactly one bit); undefined for anything else. */
export function roleOfBit(bit: number): RoleName | undefined {
  return ROLE_NAMES.find((n) => Role[n] === bit);
}

/** What a node does in the network (config.json `role`, `joule init --role`, `joule_status`). */
export const NODE_ROLES = ['validator', 'observer'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];
