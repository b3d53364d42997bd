import type { Command } from 'commander';
import type { AgreementDetailJson, AgreementJson, AgreementListJson, PriceFormulaJson, SlotSettlementJson } from '../../core/agreement-json.ts';
import { fromHexOrUndefined } from '../../core/bytes.ts';
import { AgreementBucket, agreementBucketKey, agreementKey } from '../../core/state-keys.ts';
import { AGREEMENT_ID_LENGTH } from '../../core/tx/agreement-actions.ts';
import { intArg } from '../args.ts';
import { CliError } from '../rpc-client.ts';
import { addressOption } from './query-devices.ts';
import { printJson, printLines as print, readClient as client, type ReadOptions } from './read-output.ts';

/**
 * `joule agreement show|list`: one agreement (phase, terms, collateral against its level,
 * margin calls, dispute, slot settlements) and an account's agreements, each with the state
 * key `joule query proof` verifies (`agreement:0xID`, `agreement:0xID#SLOT` for a slot's
 * settlement, `dispute:0xID`).
 */

export function agreementIdArg(v: string): Uint8Array {
  const b = fromHexOrUndefined(v);
  if (!v.startsWith('0x') || b === undefined || b.length !== AGREEMENT_ID_LENGTH)
    throw new CliError('INVALID_PARAMS', `agreement id must be 0x and 32 bytes of hex (the proposing tx's hash), got ${JSON.stringify(v)}`, 'id');
  return b;
}

const when = (ms: number) => `${new Date(ms).toISOString()} (${ms})`;

function priceText(p: PriceFormulaJson, zone: string): string {
  if (p.kind === 'fixed') return `fixed ${p.price} per kWh`;
  if (p.kind === 'time-of-use') return `time of use, per kWh by hour (UTC): ${p.table.join(',')}`;
  return `the ${zone} market's price + ${p.premium} per kWh (${p.fallback} where it did not clear)`;
}

function agreementLines(a: AgreementJson): string[] {
  const t = a.terms;
  const calls = (['buyer', 'seller'] as const)
    .filter((r) => a.marginCall[r] !== null)
    .map((r) => `margin call ${r} to restore the level by ${when(a.marginCall[r]!)}`);
  return [
    `agreement   ${a.id}`,
    `phase       ${a.phase} (proposed by the ${a.proposer} at ${when(a.proposedAtMs)})`,
    `seller      ${t.seller} (device ${t.deviceId}, zone ${a.zone})`,
    `buyer       ${t.buyer}`,
    `schedule    ${t.slots} slot(s) of ${t.quantityWh} Wh from ${when(t.firstSlotMs)}`,
    `price       ${priceText(t.price, a.zone)}`,
    `value       ${a.contractValue}; collateral ${t.collateralBps / 100} %, level now ${a.collateral.level}`,
    `collateral  buyer ${a.collateral.buyer}, seller ${a.collateral.seller}`,
    ...calls,
    ...(a.signedAtMs === null ? [] : [`signed      ${when(a.signedAtMs)}, cooling-off until ${when(a.coolingOffEndsMs!)}`]),
    `progress    ${a.settledSlots}/${t.slots} slot(s) settled: ${a.deliveredWh} Wh delivered, ${a.paid} paid`,
    ...(a.settledAtMs === null ? [] : [`settled     ${when(a.settledAtMs)}; disputes until ${when(a.disputeWindowEndsMs!)}`]),
    `state key   ${a.stateKey} (prove it: joule query proof agreement:${a.id})`,
  ];
}

function disputeLines(a: AgreementDetailJson): string[] {
  const d = a.dispute;
  if (d === null) return [];
  const respondent = d.claimant === 'buyer' ? 'seller' : 'buyer';
  const outcome = d.decidedFor === null ? `open since ${when(d.openedAtMs)}` : `decided for the ${d.decidedFor}, fee ${d.fee}`;
  return [
    `dispute     the ${d.claimant} claims from the ${respondent}: ${d.frozen} frozen, deposit ${d.deposit}; ${outcome}`,
    `votes       buyer ${d.votesBuyer.length}, seller ${d.votesSeller.length} (prove it: joule query proof dispute:${a.id})`,
  ];
}

const slotLine = (s: SlotSettlementJson) =>
  `slot ${String(s.slot).padStart(4)}  ${new Date(s.intervalStartMs).toISOString()}  delivered ${s.deliveredWh} Wh (metered ${s.meteredWh}) at ${s.price}: paid ${s.payment}, penalty ${s.penalty}, over-delivery ${s.overCharge}`;

const listLine = (a: AgreementJson) =>
  `${a.id}  ${a.phase.padEnd(14)}  ${a.terms.seller} -> ${a.terms.buyer}  ${a.terms.slots} x ${a.terms.quantityWh} Wh from ${new Date(a.terms.firstSlotMs).toISOString()}`;

export function registerAgreementReads(agreement: Command, common: (c: Command) => Command): void {
  common(
    agreement
      .command('show')
      .description('an agreement: phase, terms, collateral and its level, margin calls, dispute, and its slot settlements')
      .argument('<id>', 'the agreement id (0x...)')
      .option('--from-slot <n>', 'list settlements from this slot', intArg('from-slot', 0, 0xffff_ffff))
      .option('--limit <n>', 'at most n settlements (1..100, default 100)', intArg('limit', 1, 100)),
  ).action(async (id: string, opts: ReadOptions & { fromSlot?: number; limit?: number }) => {
    agreementIdArg(id);
    const q: Record<string, number> = {};
    if (opts.fromSlot !== undefined) q.fromSlot = opts.fromSlot;
    if (opts.limit !== undefined) q.limit = opts.limit;
    const a = await client(opts).call<AgreementDetailJson | null>('joule_getAgreement', [id, q]);
    if (a === null) throw new CliError('NOT_FOUND', `no agreement ${id} (its id is the hash of the agreement-propose tx)`);
    if (opts.json === true) return printJson(a);
    const more =
      a.nextSlot === null ? `(${a.settlements.length} settlement(s), end of list)` : `(${a.settlements.length} settlement(s); more: --from-slot ${a.nextSlot})`;
    print([...agreementLines(a), ...disputeLines(a), ...a.settlements.map(slotLine), more]);
  });

  common(
    agreement
      .command('list')
      .description("an account's agreements, as buyer or seller")
      .argument('<address>', 'joule1... address')
      .option('--limit <n>', 'at most n (1..100, default 100)', intArg('limit', 1, 100))
      .option('--cursor <hex>', "continue after the previous page's cursor"),
  ).action(async (address: string, opts: ReadOptions & { limit?: number; cursor?: string }) => {
    const q: Record<string, unknown> = { account: addressOption(address, 'address') };
    if (opts.limit !== undefined) q.limit = opts.limit;
    if (opts.cursor !== undefined) q.cursor = opts.cursor;
    const page = await client(opts).call<AgreementListJson>('joule_getAccountAgreements', [q]);
    if (opts.json === true) return printJson(page);
    const n = page.agreements.length;
    print([
      ...page.agreements.map(listLine),
      page.nextCursor === null ? `(${n} agreement(s), end of list)` : `(${n} agreement(s); more: --cursor ${page.nextCursor})`,
    ]);
  });
}

/** `agreement:0xID`, `agreement:0xID#SLOT` (a slot's settlement) and `dispute:0xID` as state keys (joule query proof); undefined for other forms. */
export function agreementProofKey(key: string): Uint8Array | undefined {
  const m = /^(agreement|dispute):(0x[0-9a-fA-F]*)(?:#([0-9]{1,10}))?$/.exec(key);
  if (m === null) {
    if (/^(agreement|dispute):/.test(key))
      throw new CliError(
        'INVALID_PARAMS',
        `${key.split(':')[0]}: needs 0xID${key.startsWith('agreement:') ? ' (and optionally #SLOT)' : ''}, got ${JSON.stringify(key)}`,
        'key',
      );
    return undefined;
  }
  const [, kind, hexId, slot] = m;
  const id = agreementIdArg(hexId!);
  if (kind === 'dispute') {
    if (slot !== undefined) throw new CliError('INVALID_PARAMS', `dispute:0xID takes no #SLOT, got ${JSON.stringify(key)}`, 'key');
    return agreementBucketKey(AgreementBucket.dispute, id);
  }
  if (slot === undefined) return agreementKey(id);
  if (Number(slot) > 0xffff_ffff) throw new CliError('INVALID_PARAMS', `agreement:0xID#SLOT needs a slot below 2^32, got ${JSON.stringify(key)}`, 'key');
  const s = new Uint8Array(4);
  new DataView(s.buffer).setUint32(0, Number(slot));
  return agreementBucketKey(AgreementBucket.slot, id, s);
}
