import { toHex } from '../../core/bytes.ts';
import { formatAddress } from '../../core/keys.ts';
import { isPriced } from '../../core/market.ts';
import { decodeStateValue } from '../../node/api/state-views.ts';

/** An id or a key, shortened for one line. */
const short = (id: Uint8Array): string => `0x${toHex(id).slice(0, 16)}…`;

/** One line saying what a proven state value is: the record its key names, decoded (node/api/state-views.ts), or its hex. */
export function describeValue(key: Uint8Array, value: Uint8Array | undefined): string {
  if (value === undefined) return 'absent';
  const view = decodeStateValue(key, value);
  if (view === undefined) return `0x${toHex(value)}`;
  if (view.kind === 'interval-totals') {
    const t = view.totals;
    return `interval totals of ${t.deviceId} from ${t.intervalStartMs}: ${t.readings} reading(s), import ${t.importWh} Wh, export ${t.exportWh} Wh, ${t.status}${t.mintedWh === undefined ? '' : `, minted ${t.mintedWh} Wh`}`;
  }
  if (view.kind === 'device-health') {
    const h = view.health;
    return `health of ${view.deviceId}: ${h.missed} missed interval(s)${h.estimate === undefined ? '' : `, estimate ${h.estimate.exportWh} Wh export`}${h.flaggedAtMs === undefined ? '' : `, flagged at ${h.flaggedAtMs}`}`;
  }
  if (view.kind === 'energy-utxo') {
    const u = view.utxo;
    const p = u.provenance;
    return `energy UTXO: ${u.wh} Wh of ${p.deviceId} (${p.kind}, ${p.zone}, ${new Date(p.intervalStartMs).toISOString()}, ${p.carbonIntensity} g/kWh), owner ${formatAddress(u.owner)}${u.frozen ? ', FROZEN' : ''}`;
  }
  if (view.kind === 'certificate') {
    const c = view.certificate;
    return `certificate: ${c.wh} Wh of ${c.provenance.deviceId} (${c.provenance.zone}, ${c.provenance.carbonIntensity} g/kWh) retired for ${formatAddress(c.beneficiary)} at height ${c.height}: ${JSON.stringify(c.purpose)}`;
  }
  if (view.kind === 'market') {
    const m = view.market;
    return `market ${m.zone}@${m.intervalStartMs}: ${m.status}, ${m.bids} bid(s), ${m.asks} ask(s)${isPriced(m) ? `, ${m.volumeWh} Wh in ${m.trades} trade(s) at ${m.price} per kWh` : ''}`;
  }
  if (view.kind === 'trade') {
    const t = view.trade;
    return `trade #${t.seq}: ${t.volumeWh} Wh from ${formatAddress(t.seller)} (${t.deviceId}) to ${formatAddress(t.buyer)}`;
  }
  if (view.kind === 'settlement') {
    const x = view.settlement;
    return `settlement of trade #${view.seq} at height ${x.height}: delivered ${x.deliveredWh} Wh, paid ${x.payment}, penalty ${x.penalty}${x.utxoId === undefined ? '' : `, energy UTXO 0x${toHex(x.utxoId)}`}`;
  }
  if (view.kind === 'agreement') {
    const a = view.agreement;
    return `agreement ${short(a.id)}: ${a.phase}, ${a.quantityWh} Wh a slot from ${formatAddress(a.seller)} (${a.deviceId}) to ${formatAddress(a.buyer)}, ${a.nextSlot} slot(s) settled, ${a.deliveredWh} Wh delivered, ${a.paid} paid`;
  }
  if (view.kind === 'flex-bid') {
    const b = view.bid;
    return `flex bid ${short(view.bidId)}: ${b.capacityKw} kW of ${b.deviceIds.length} device(s) from ${formatAddress(b.aggregator)} at ${b.pricePerMwh} per MWh, available ${b.availableFromMs} to ${b.availableUntilMs}${b.reservedUntilMs === 0 ? '' : `, activated until ${b.reservedUntilMs}`}`;
  }
  if (view.kind === 'flex-activation') {
    const a = view.activation;
    return `flex activation ${short(view.activationId)} of bid ${short(a.bidId)}: ${a.status}, ${a.powerKw} kW from ${a.startMs} to ${a.endMs} for ${formatAddress(a.dso)}, ${a.settledIntervals} interval(s) settled, ${a.deliveredWh} Wh delivered, ${a.paid} paid, penalty ${a.penalty}`;
  }
  if (view.kind === 'flex-interval') {
    const r = view.result;
    return `flex interval of activation ${short(view.activationId)} from ${view.intervalStartMs} at height ${r.height}: metered ${r.meteredWh} Wh, baseline ${r.baselineWh} Wh, delivered ${r.deliveredWh} of ${r.targetWh} Wh, paid ${r.payment}, penalty ${r.penalty} of ${r.penaltyDue} due`;
  }
  if (view.kind === 'command-payment') {
    const c = view.payment;
    return `command payment of ${short(view.commandHash)} to ${formatAddress(c.owner)} for ${view.deviceId} from ${view.intervalStartMs} at height ${c.height}: exported ${c.exportWh} Wh under a limit of ${c.limitWh} Wh, ${c.paid} of ${c.due} due paid`;
  }
  if (view.kind === 'governor-set') {
    const g = view.governors;
    return `governors: ${g.threshold} of ${g.governors.length} approve a reversal: ${g.governors.map(formatAddress).join(', ')}`;
  }
  if (view.kind === 'reversal') {
    const r = view.reversal;
    const status = r.executedHeight === undefined ? `open since height ${r.proposedHeight}` : `executed at height ${r.executedHeight}`;
    return `reversal ${r.id} of ${r.zone}@${r.intervalStartMs}#${r.seq}: ${status}, ${r.approvers.length} approval(s), seller ${formatAddress(r.seller)}, buyer ${formatAddress(r.buyer)}: ${JSON.stringify(r.reason)}`;
  }
  if (view.kind === 'device') {
    const d = view.device;
    return `device ${d.id}: ${d.kind}, ${d.status}, zone ${d.zone}, key ${short(d.publicKey)} (${d.keyHistory.length} in history)`;
  }
  const a = view.account;
  return `account: balance ${a.balance}, locked ${a.locked}, nonce ${a.nonce}, roles ${a.roles.join(',') || '-'}`;
}
