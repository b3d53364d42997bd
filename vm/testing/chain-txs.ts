/**
 * Turns an op of the whole-VM test (vm/testing/chain-ops.ts) into signed txs against the
 * committed state: who sends them, what they target, their amounts and times, and their
 * fault (the market, agreement and flexibility kinds in chain-market-txs.ts). Not used by
 * the node. A client-side refusal (a builder that throws on a value no client encodes)
 * drops the op.
 */
import { utf8 } from '../../core/bytes.ts';
import { COMMAND_TYPES } from '../../core/command.ts';
import { isJouleError } from '../../core/errors.ts';
import { blsAggregateSignatures, type BlsKeyPair } from '../../core/keys.ts';
import { signProofOfPossession } from '../../core/pop.ts';
import { VOTABLE_ROLES } from '../../core/roles.ts';
import { buildCheckMeterResolution, CHECK_METER_RESOLUTIONS } from '../../core/tx/check-meter-resolution.ts';
import { buildCommandAnchor } from '../../core/tx/command-anchor.ts';
import { buildCurrencyBurn } from '../../core/tx/currency-burn.ts';
import { buildCurrencyMint } from '../../core/tx/currency-mint.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildDeviceRekey } from '../../core/tx/device-rekey.ts';
import { buildDeviceStatus } from '../../core/tx/device-status.ts';
import { buildDeviceUpdate, type DeviceUpdateBody } from '../../core/tx/device-update.ts';
import { buildEnergyRetire } from '../../core/tx/energy-retire.ts';
import { buildEnergyTransfer } from '../../core/tx/energy-transfer.ts';
import { buildEvidenceTx } from '../../core/tx/evidence.ts';
import { buildGridIntensity } from '../../core/tx/grid-intensity.ts';
import { buildOrderCancel } from '../../core/tx/order-cancel.ts';
import { buildReversalApprove } from '../../core/tx/reversal-approve.ts';
import { buildReversalPropose } from '../../core/tx/reversal-propose.ts';
import { buildRoleVote } from '../../core/tx/role-vote.ts';
import type { SenderArgs } from '../../core/tx/sign.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { buildValidatorVote } from '../../core/tx/validator-vote.ts';
import { decodeTx, encodeTx, type Tx } from '../../core/tx.ts';
import { testValidator } from '../../consensus/testing/fixtures.ts';
import { getAccount } from '../../state/accounts.ts';
import { getDevice } from '../../state/devices.ts';
import { getSettlement } from '../../state/markets.ts';
import { getReversal } from '../../state/reversals.ts';
import { marketId } from '../../core/state-keys.ts';
import { getMeterCursor } from '../../state/telemetry.ts';
import { totalMoney } from './chain-invariants.ts';
import type { Op } from './chain-ops.ts';
import { byName, HOSTILE, intervalAt, operatorOf, pickOf, validatorOr, type Built, type BuildContext } from './chain-build.ts';
import { agreementTx, flexTx, orderBurst, orderPlace, proposeTx } from './chain-market-txs.ts';
import { addressOf, DEVICE_IDS, DEVICE_MAX_W, ZONES } from './chain-world.ts';
import { devicePop, ENERGY_CHAIN_ID, registerBody } from './energy-chain.ts';
import { reading, signReadingBlst } from './telemetry.ts';

const FEE = 25n;

function telemetry(x: BuildContext, op: Op): Built | undefined {
  const operator = byName(x.w, ['agg', 'agg2', 'dso', 'dso2'], op);
  const operated = DEVICE_IDS.filter((id) => {
    const d = getDevice(x.state, id);
    // An inactive device is refused at admission and skipped in a block: only the hostile variant names one.
    return d !== undefined && (d.status === 'active' || op.flag === 6) && addressOf(operator).every((b, i) => b === d.operator[i]);
  });
  // Mostly every device the sender operates (devices that miss 4 intervals are flagged), now and then some.
  const chosen = op.pick % 4 !== 0 ? [...operated] : operated.filter((_, i) => (op.pick >> (i + 2)) & 1);
  if (chosen.length === 0 && operated.length > 0) chosen.push(operated[op.pick % operated.length]!);
  if (op.flag === 6) chosen.push('ghost');
  if (chosen.length === 0) return undefined;
  const readings = chosen.map((id, i) => {
    // Mostly within the second since the last block (after every earlier reading); now and then up to 9 s back.
    const backMs = op.flag <= 2 ? 0 : (op.a + i * 1237) % 9000;
    const at = x.now - backMs;
    // Within what the device's power (1 MW) allows since its last reading, mostly export; flag 5 far beyond.
    const last = getMeterCursor(x.state, id)?.lastTimestampUs;
    const elapsedMs = last === undefined ? x.params.settlementIntervalMs : Math.max(0, at - Number(last / 1000n));
    const allowed = Math.min(2000, Math.floor((elapsedMs * DEVICE_MAX_W) / 3_600_000));
    const share = ((op.b >> (i * 3)) % 1000) / 1000;
    const wh = op.flag === HOSTILE && i === 0 ? -1_000_000_000n : BigInt(Math.floor(allowed * share) - Math.floor(allowed / 4));
    return reading(id, at, -wh);
  });
  const signatures = readings.map((r) => {
    const key: BlsKeyPair = x.w.keyOf(x.state, r.deviceId) ?? x.w.freshKey();
    return signReadingBlst(op.flag === 4 && r.deviceId === 'pv-0' ? x.w.freshKey() : key, r);
  });
  const keyHeight = op.flag === 3 ? Math.max(1, x.height - 1 - (op.a % 3)) : x.height;
  return { sender: operator, make: (s) => buildTelemetryBatch({ ...s, keyHeight, readings, signature: blsAggregateSignatures(signatures) }) };
}

function energy(x: BuildContext, op: Op, retire: boolean): Built | undefined {
  const u = pickOf(x.targets.utxos, op.pick);
  if (u === undefined) return undefined;
  const owner = x.w.senders.find((s) => addressOf(s).every((b, i) => b === u.owner[i]));
  const sender = op.flag === 7 || owner === undefined ? x.w.senders[op.who % x.w.senders.length]! : owner;
  const more = x.targets.utxos.filter((v) => v !== u && v.owner.every((b, i) => b === u.owner[i]));
  const inputs = [u, ...(op.a % 2 === 1 && more.length > 0 ? [more[op.a % more.length]!] : []), ...(op.flag === 5 ? [u] : [])];
  const total = inputs.slice(0, op.flag === 5 ? 1 : inputs.length).reduce((s, v) => s + v.wh, 0n);
  const to = addressOf(x.w.senders[op.b % x.w.senders.length]!);
  const ids = inputs.map((v) => v.id);
  if (retire) {
    const wh = op.flag === 6 ? total + 1n : total === 0n ? 1n : (BigInt(op.a) % total) + 1n;
    return { sender, make: (s) => buildEnergyRetire({ ...s, inputs: ids, wh, beneficiary: to, purpose: 'fuzz' }) };
  }
  const first = total <= 1n ? total : (BigInt(op.b) % total) + (op.flag === 6 ? 1n : 0n);
  const outputs = [
    { owner: to, wh: first },
    { owner: addressOf(sender), wh: total - first },
  ].filter((o) => o.wh > 0n);
  return { sender, make: (s) => buildEnergyTransfer({ ...s, inputs: ids, outputs: outputs.length > 0 ? outputs : [{ owner: to, wh: 1n }] }) };
}

function deviceTx(x: BuildContext, op: Op): Built | undefined {
  const down = DEVICE_IDS.filter((d) => ['suspended', 'flagged-for-inspection'].includes(getDevice(x.state, d)?.status ?? ''));
  const id = op.kind === 'status' && down.length > 0 && op.b % 3 !== 0 ? down[op.pick % down.length]! : DEVICE_IDS[op.pick % DEVICE_IDS.length]!;
  if (op.kind === 'register') {
    const operator = byName(x.w, ['agg', 'agg2', 'dso', 'dso2'], op);
    const key = x.w.freshKey();
    const pop = op.flag === HOSTILE ? devicePop(x.w.freshKey()) : devicePop(key);
    const owner = addressOf(x.w.senders[op.b % x.w.senders.length]!);
    const device = registerBody(id, key, owner, {
      proofOfPossession: pop,
      zone: ZONES[op.a % 2]!,
      kind: (['solar', 'battery', 'load', 'wind'] as const)[op.b % 4]!,
      maxExportW: DEVICE_MAX_W,
      maxImportW: DEVICE_MAX_W,
      checkMeter: op.flag === 6 ? 'cm-0' : undefined,
    });
    return { sender: operator, make: (s) => buildDeviceRegister({ ...s, device }) };
  }
  const governance = op.flag === 4 && op.kind !== 'rekey';
  const sender = governance ? x.w.validators[op.who % x.w.validators.length]! : operatorOf(x, id, op);
  if (sender === undefined) return undefined;
  if (op.kind === 'status') {
    // Mostly bringing back a device flagged for missing data or suspended; now and then suspending or revoking one.
    const down = getDevice(x.state, id)?.status !== 'active';
    const action = down && op.a % 6 !== 0 ? 'reactivate' : (['suspend', 'reactivate', 'suspend', 'revoke'] as const)[op.a % 4]!;
    return { sender, make: (s) => buildDeviceStatus({ ...s, id, action }) };
  }
  if (op.kind === 'rekey') {
    const key = op.flag === 6 ? (x.w.keyOf(x.state, id) ?? x.w.freshKey()) : x.w.freshKey();
    const pop = op.flag === HOSTILE ? devicePop(x.w.freshKey()) : devicePop(key);
    return { sender, make: (s) => buildDeviceRekey({ ...s, id, publicKey: key.publicKey, proofOfPossession: pop }) };
  }
  const changes: DeviceUpdateBody[] = [
    { id, zone: ZONES[op.b % 2] },
    { id, maxExportW: (op.b % DEVICE_MAX_W) + 1 },
    { id, carbonIntensity: op.b % 900 },
    { id, checkMeter: op.b % 2 === 0 ? null : 'cm-0' },
    { id, operator: addressOf(x.w.accounts[['agg', 'agg2', 'dso'][op.b % 3]!]!) },
  ];
  const update = changes[op.a % changes.length]!;
  return { sender, make: (s) => buildDeviceUpdate({ ...s, update }) };
}

function governanceTx(x: BuildContext, op: Op): Built | undefined {
  const v = validatorOr(x.w, op);
  if (op.kind === 'role-vote') {
    const account = addressOf(x.w.senders[op.pick % x.w.senders.length]!);
    const role = VOTABLE_ROLES[op.b % VOTABLE_ROLES.length]!;
    return { sender: v, make: (s) => buildRoleVote({ ...s, action: op.a % 3 === 0 ? 'revoke' : 'grant', account, role }) };
  }
  if (op.kind === 'validator-vote') {
    const add = op.a % 2 === 0;
    const target = add ? testValidator(4) : x.w.validators[op.pick % x.w.validators.length]!;
    const pop = add ? signProofOfPossession(ENERGY_CHAIN_ID, target.blsSecret, target.validator.blsKey, target.validator.identityKey) : undefined;
    return {
      sender: v,
      make: (s) => buildValidatorVote({ ...s, action: add ? 'add' : 'remove', validator: { ...target.validator, blsProofOfPossession: pop } }),
    };
  }
  // An approval mostly targets an open proposal; a proposal a settled trade.
  const open = x.targets.trades.filter((t) => getReversal(x.state, t)?.executedHeight === undefined && getReversal(x.state, t) !== undefined);
  const settled = x.targets.trades.filter((t) => getSettlement(x.state, marketId(t.zone, t.intervalStartMs), t.seq) !== undefined);
  const among = op.flag === 6 ? x.targets.trades : op.kind === 'reversal-approve' && open.length > 0 ? open : settled.length > 0 ? settled : x.targets.trades;
  const trade = pickOf(among, op.pick);
  if (trade === undefined) return undefined;
  const g = op.flag === 7 ? x.w.senders[op.who % x.w.senders.length]! : x.w.governors[op.who % x.w.governors.length]!;
  const target = { ...trade, seller: op.flag === HOSTILE ? trade.buyer : trade.seller };
  if (op.kind === 'reversal-propose') return { sender: g, make: (s) => buildReversalPropose({ ...s, ...target, reason: 'fuzz' }) };
  return { sender: g, make: (s) => buildReversalApprove({ ...s, ...target }) };
}

/** The op as txs for this block (none when it has nothing to target). */
export function buildOp(x: BuildContext, op: Op): Built[] {
  if (op.kind === 'order-burst') return orderBurst(x, op);
  if (op.kind === 'meter-all') {
    // Every operator meters every device it operates, as aggregators do each interval.
    return [0, 1, 2, 3].flatMap((who) => telemetry(x, { ...op, kind: 'telemetry', who, pick: 1, flag: 0 }) ?? []);
  }
  const one = buildOne(x, op);
  return one === undefined ? [] : [one];
}

function buildOne(x: BuildContext, op: Op): Built | undefined {
  const { w } = x;
  const anyone = w.senders[op.who % w.senders.length]!;
  switch (op.kind) {
    case 'meter-all':
    case 'order-burst':
      return undefined;
    case 'transfer': {
      const to = addressOf(w.senders[op.pick % w.senders.length]!);
      const amount = op.flag === 6 ? getAccount(x.state, addressOf(anyone)).balance + 1n : BigInt((op.a % 1_000_000) + 1);
      return { sender: anyone, make: (s) => buildTransfer({ ...s, to, amount }) };
    }
    case 'mint': {
      const to = addressOf(w.senders[op.pick % w.senders.length]!);
      // Flag 5: up to a few units past the supply's bound, 2^64-1 (state/supply.ts: a mint beyond it is refused; past it
      // a block's fee credit or a hook's payment could overflow an account); 6: the largest amount.
      const headroom = 2n ** 64n - 1n - totalMoney(x.state) - BigInt(op.a % 100) + BigInt(op.a % 3);
      const wanted = op.flag === HOSTILE ? headroom : BigInt((op.a % 1_000_000) + 1);
      const amount = op.flag === 6 ? 2n ** 64n - 1n : wanted;
      if (amount < 1n) return undefined;
      return { sender: byName(w, ['issuer'], op), make: (s) => buildCurrencyMint({ ...s, to, amount }) };
    }
    case 'burn': {
      const issuer = byName(w, ['issuer'], op);
      const amount = op.flag === 6 ? getAccount(x.state, addressOf(issuer)).balance + 1n : BigInt((op.a % 1_000_000) + 1);
      return { sender: issuer, make: (s) => buildCurrencyBurn({ ...s, amount }) };
    }
    case 'register':
    case 'update':
    case 'status':
    case 'rekey':
      return deviceTx(x, op);
    case 'role-vote':
    case 'validator-vote':
    case 'reversal-propose':
    case 'reversal-approve':
      return governanceTx(x, op);
    case 'evidence':
      return { sender: anyone, make: (s) => buildEvidenceTx({ ...s, evidence: utf8(`not evidence ${op.a}`) }) };
    case 'telemetry':
      return telemetry(x, op);
    case 'resolution': {
      const frozen = x.targets.utxos.filter((u) => u.frozen);
      const u = pickOf(frozen, op.pick);
      const deviceId = u?.provenance.deviceId ?? 'pv-0';
      const intervalStartMs = op.flag === 6 || u === undefined ? intervalAt(x, -2) : u.provenance.intervalStartMs;
      const resolution = CHECK_METER_RESOLUTIONS[op.a % 3]!;
      const valueWh = resolution === 'value' ? BigInt(op.b % 2000) : undefined;
      return { sender: byName(w, ['dso', 'dso2'], op), make: (s) => buildCheckMeterResolution({ ...s, deviceId, intervalStartMs, resolution, valueWh }) };
    }
    case 'grid-intensity': {
      const intervalStartMs = intervalAt(x, (op.a % 3) - 1) + (op.flag === 6 ? 7 : 0);
      return {
        sender: byName(w, ['oracle'], op),
        make: (s) => buildGridIntensity({ ...s, zone: ZONES[op.b % 2]!, intervalStartMs, carbonIntensity: op.b % 800 }),
      };
    }
    case 'command': {
      const dso = byName(w, ['dso', 'dso2'], op);
      const deviceIds = [op.flag === HOSTILE ? 'pv-1' : addressOf(dso).every((b, i) => b === addressOf(w.accounts.dso!)[i]) ? 'ld-0' : 'ld-1'];
      const type = COMMAND_TYPES[[1, 3, 1, 3, 0, 2][op.a % 6]!]!;
      const fromUs = BigInt(x.now) * 1000n + BigInt((op.a % 70) - 10) * 1_000_000n;
      return {
        sender: dso,
        make: (s) =>
          buildCommandAnchor({
            ...s,
            type: COMMAND_TYPES.indexOf(type) as 0 | 1 | 2 | 3,
            deviceIds,
            zone: undefined,
            powerLimitW: type === 'idle' ? 0 : (op.b % DEVICE_MAX_W) + 1,
            priceMicroPerKwh: op.pick % 2 === 0 ? 0n : BigInt((op.b % 500_000) + 1),
            validFromUs: fromUs,
            validUntilUs: fromUs + BigInt((op.b % 120) + 1) * 1_000_000n,
          }),
      };
    }
    case 'energy-transfer':
      return energy(x, op, false);
    case 'energy-retire':
      return energy(x, op, true);
    case 'order-place':
      return orderPlace(x, op);
    case 'order-cancel': {
      const o = pickOf(x.targets.orders, op.pick);
      if (o === undefined) return undefined;
      const owner = w.senders.find((s) => addressOf(s).every((b, i) => b === o.owner[i]))!;
      const orderId = op.flag === 6 ? Uint8Array.from(o.id.map((b, i) => (i === o.id.length - 5 ? b ^ 1 : b))) : o.id;
      return { sender: op.flag === 7 ? anyone : owner, make: (s) => buildOrderCancel({ ...s, orderId }) };
    }
    case 'propose':
      return proposeTx(x, op);
    case 'sign':
    case 'withdraw':
    case 'collateralise':
    case 'dispute':
    case 'vote':
      return agreementTx(x, op);
    case 'flex-bid':
    case 'flex-activate':
    case 'flex-confirm':
    case 'flex-withdraw':
      return flexTx(x, op);
    case 'replay':
      return pickOf(x.history, op.pick);
  }
}

/** The tx `built` makes for this block with `op.env`'s fault; undefined when no client would build it. */
export function makeTx(x: BuildContext, op: Op, built: Built): Tx | undefined {
  if (!('make' in built)) return built;
  const address = addressOf(built.sender);
  const nonce = x.nonceOf(address) + (op.env === 'nonce+1' ? 1 : op.env === 'nonce-1' ? -1 : 0);
  if (nonce < 0) return undefined;
  const args: SenderArgs = {
    chainId: op.env === 'chain' ? 'other-chain' : ENERGY_CHAIN_ID,
    seed: built.sender.seed,
    nonce,
    fee: op.env === 'fee-low' ? 1n : FEE,
  };
  let tx: Tx;
  try {
    tx = built.make(args);
  } catch (e) {
    if (isJouleError(e)) return undefined;
    throw e;
  }
  if (op.env !== 'bad-sig') return tx;
  const signature = Uint8Array.from(tx.signature);
  signature[7]! ^= 0x40;
  return decodeTx(encodeTx({ ...tx, signature }));
}
