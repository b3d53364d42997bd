import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../core/bytes.ts';
import { certificateId, outputUtxoId } from '../core/energy.ts';
import { addressFromPublicKey, formatAddress } from '../core/keys.ts';
import type { MarketTradesJson } from '../core/market-json.ts';
import type { EnergyUtxoJson, IntervalTotalsListJson, StatusJson, TransactionJson } from '../core/rpc-json.ts';
import { energyUtxoKey, intervalTotalsKey } from '../core/state-keys.ts';
import { type NodeProcess, runCli, startTestNetwork, stopTestNetworks, type TestNetwork } from './helpers/cluster.ts';
import { rpc } from './helpers/net.ts';

/**
 * The energy ledger end to end on a real 4-validator devnet (4 OS processes, libp2p,
 * LevelDB): `joule simulate devices` registers a fleet and streams readings signed with
 * @noble/curves as telemetry batches; each settlement interval closes with the devices'
 * metered export minted as energy tokens, identically on every validator (the same state
 * value and root at one height on all four); a transfer and a retirement of those tokens
 * become final and are proven by `joule query proof` against a certified header. Then a
 * market: `joule simulate market` places asks for a second fleet (operated by account-0,
 * owned by account-3) and bids from two other accounts; the market clears, its trades settle against the fleet's
 * metered export, and market, trades and settlements are identical on every validator and
 * provable.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('energy ledger and market on a 4-validator devnet', () => {
  const procs: NodeProcess[] = [];
  let net: TestNetwork;
  beforeAll(async () => {
    net = await startTestNetwork(procs, {
      validators: 4,
      accounts: 4,
      params: {
        blockPeriodMs: 300,
        emptyBlockPeriodMs: 300,
        requestTimeoutMs: 1500,
        settlementIntervalMs: 3000,
        // A reading from an interval's last moment has the whole skew to be included (a batch
        // is sent as the reading is taken, and a node just started is slow to include it).
        settlementDelayMs: 2000,
        maxReadingSkewMs: 2000,
        // Devices are flagged after missing this many intervals: not during the test's pauses.
        missedIntervalsDerate: 100,
        missedIntervalsFlag: 200,
      },
    });
  }, 90_000);
  afterAll(async () => {
    await stopTestNetworks(procs);
  });

  it('a simulated fleet is metered and minted identically on every validator; a transfer and a retirement are final and provable', async () => {
    const urls = net.nodes.map((n) => n.rpcUrl);
    const [operatorKey, buyerKey] = [net.files.accounts[0]!.keyFile, net.files.accounts[1]!.keyFile];
    const operator = formatAddress(addressFromPublicKey(net.devnet.accountKeys[0]!.keyPair.publicKey));
    const buyer = formatAddress(addressFromPublicKey(net.devnet.accountKeys[1]!.keyPair.publicKey));

    // The fleet: 3 solar devices owned by the operator (account-0, an aggregator), a reading each per second.
    const sim = await runCli(
      ['simulate', 'devices', '--count', '3', '--aggregator-key', operatorKey, '--rpc', urls[0]!, '--every', '1', '--batches', '5', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(sim.code, sim.stderr).toBe(0);
    const events = sim.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    expect(events.filter((e) => e.event === 'batch').length, sim.stdout).toBeGreaterThanOrEqual(4);
    // Every batch final and successful (what it failed with otherwise).
    for (const e of events as { event: string; hash?: string }[]) {
      if (e.event !== 'batch') continue;
      const t = await until(
        'the batch final',
        async () => (await rpc<TransactionJson | null>(urls[0]!, 'joule_getTransaction', [e.hash])) ?? undefined,
        20_000,
      );
      expect(t.receipt.success, JSON.stringify(t.receipt)).toBe(true);
    }

    // Intervals close once their end plus the settlement delay has passed.
    const minted = await until(
      'a closed, minted interval of sim-0',
      async () =>
        (await rpc<IntervalTotalsListJson>(urls[0]!, 'joule_getIntervalTotals', ['sim-0'])).intervals.find((t) => t.status === 'closed' && t.utxo !== null),
      30_000,
    );
    expect(BigInt(minted.mintedWh!)).toBeGreaterThan(0n);
    expect(BigInt(minted.exportWh) - BigInt(minted.importWh)).toBe(BigInt(minted.mintedWh!));

    // Identical on every validator: the interval's totals and its token, proven at one height on all four.
    const h = (await rpc<StatusJson>(urls[0]!, 'joule_status')).height;
    await until(
      'every node at height h',
      async () => ((await Promise.all(urls.map((u) => rpc<StatusJson>(u, 'joule_status')))).every((s) => s.height >= h) ? true : undefined),
      20_000,
    );
    for (const key of [intervalTotalsKey('sim-0', minted.intervalStartMs), energyUtxoKey(fromHex(minted.utxo!))]) {
      const proofs = await Promise.all(urls.map((u) => rpc<{ value: string | null; stateRoot: string }>(u, 'joule_getProof', [`0x${toHex(key)}`, h])));
      expect(proofs[0]!.value).not.toBeNull();
      for (const p of proofs) expect({ value: p.value, root: p.stateRoot }).toEqual({ value: proofs[0]!.value, root: proofs[0]!.stateRoot });
    }
    const token = await rpc<EnergyUtxoJson>(urls[3]!, 'joule_getEnergyUtxo', [minted.utxo]);
    expect(token).toMatchObject({
      owner: operator,
      wh: minted.mintedWh,
      frozen: false,
      provenance: { deviceId: 'sim-0', kind: 'solar', intervalStartMs: minted.intervalStartMs },
    });

    // A transfer: part to the buyer, the rest back (submitted to one validator, final on all).
    const wh = BigInt(minted.mintedWh!);
    const part = wh / 2n > 0n ? wh / 2n : wh;
    const outputs = part === wh ? [`${buyer}:${wh}`] : [`${buyer}:${part}`, `${operator}:${wh - part}`];
    const transfer = await runCli([
      'energy',
      'transfer',
      '--input',
      minted.utxo!,
      ...outputs.flatMap((o) => ['--to', o]),
      '--key',
      operatorKey,
      '--rpc',
      urls[1]!,
      '--wait',
      '--json',
    ]);
    expect(transfer.code, transfer.stderr).toBe(0);
    const transferTx = JSON.parse(transfer.stdout) as { hash: string; receipt: { success: boolean } };
    expect(transferTx.receipt.success).toBe(true);
    const bought = toHex(outputUtxoId(fromHex(transferTx.hash), 0));
    await until(
      "the buyer's token on node 3",
      async () => (await rpc<EnergyUtxoJson | null>(urls[3]!, 'joule_getEnergyUtxo', [`0x${bought}`])) ?? undefined,
      10_000,
    );

    // A retirement by the buyer: a certificate, final, and the token gone for good.
    const retire = await runCli([
      'energy',
      'retire',
      '--input',
      `0x${bought}`,
      '--wh',
      part.toString(),
      '--beneficiary',
      buyer,
      '--purpose',
      'devnet test',
      '--key',
      buyerKey,
      '--rpc',
      urls[2]!,
      '--wait',
      '--json',
    ]);
    expect(retire.code, retire.stderr).toBe(0);
    const retireTx = JSON.parse(retire.stdout) as { hash: string; receipt: { success: boolean } };
    expect(retireTx.receipt.success).toBe(true);
    const certificate = toHex(certificateId(fromHex(retireTx.hash)));

    // Both provable against a certified header, from a validator that took part in neither.
    const cert = await runCli(['query', 'proof', `certificate:0x${certificate}`, '--rpc', urls[3]!]);
    expect(cert.code, cert.stderr).toBe(0);
    expect(cert.stdout).toMatch(/verified\s+yes \(inclusion proof\)/);
    expect(cert.stdout).toContain(`retired for ${buyer}`);
    const spent = await runCli(['query', 'proof', `utxo:0x${bought}`, '--rpc', urls[3]!]);
    expect(spent.code, spent.stderr).toBe(0);
    expect(spent.stdout).toMatch(/verified\s+yes \(key is absent: exclusion proof\)/);
  }, 120_000);

  it('orders from several accounts clear and settle against the fleet, identically on every validator, and are provable', async () => {
    const urls = net.nodes.map((n) => n.rpcUrl);
    const keys = net.files.accounts.map((a) => a.keyFile);
    const operatorKey = keys[0]!;
    // A fleet operated by account-0 (which sends its telemetry batches) and owned by account-3
    // (which sells its export): two accounts, so the batches and the asks never race for a nonce.
    const seller = formatAddress(addressFromPublicKey(net.devnet.accountKeys[3]!.keyPair.publicKey));
    const fleetArgs = [
      'simulate',
      'devices',
      '--count',
      '3',
      '--prefix',
      'mkt',
      '--owner',
      seller,
      '--aggregator-key',
      operatorKey,
      '--rpc',
      urls[0]!,
      '--every',
      '1',
    ];
    // Registered first, so the market sees the devices; then it keeps exporting while the market is placed, closes and delivers.
    const registered = await runCli([...fleetArgs, '--batches', '1', '--json'], { timeoutMs: 60_000 });
    expect(registered.code, registered.stderr).toBe(0);
    const fleet = runCli([...fleetArgs, '--batches', '14', '--json'], { timeoutMs: 60_000 });
    // One price for every order: each bid meets each ask, so the market trades min(bids, asks) Wh at that price.
    const sim = await runCli(
      [
        'simulate',
        'market',
        // Buyers account-1 and account-2, seller account-3 (account-0 only operates the fleet).
        ...keys.slice(1).flatMap((k) => ['--key', k]),
        '--genesis',
        net.files.genesisFile,
        '--rpc',
        urls[1]!,
        '--markets',
        '1',
        '--margin',
        '1',
        '--min-price',
        '100000',
        '--max-price',
        '100000',
        '--json',
      ],
      { timeoutMs: 60_000 },
    );
    expect(sim.code, sim.stderr).toBe(0);
    const events = sim.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; intervalStartMs: number; bids: number; asks: number; failed?: string[]; trades?: number; price?: string });
    const placed = events.find((e) => e.event === 'placed')!;
    expect(placed, sim.stdout).toMatchObject({ bids: 2, asks: 3, failed: [] });
    const cleared = events.find((e) => e.event === 'cleared')!;
    expect(cleared.trades, sim.stdout).toBeGreaterThan(0);
    expect(cleared.price).toBe('100000');
    const start = placed.intervalStartMs;

    // Every trade settles once the interval's meter data closes: paid for what the seller's device delivered, at P.
    const settled = await until(
      'every trade settled on validator 3',
      async () => {
        const page = await rpc<MarketTradesJson>(urls[3]!, 'joule_getMarketTrades', [{ zone: 'SIM', intervalStartMs: start }]);
        return page.trades.length === cleared.trades && page.trades.every((t) => t.settlement !== null) ? page : undefined;
      },
      30_000,
    );
    const fleetRun = await fleet;
    expect(fleetRun.code, fleetRun.stderr).toBe(0);
    for (const t of settled.trades) {
      const s = t.settlement!;
      expect(BigInt(s.deliveredWh)).toBeLessThanOrEqual(BigInt(t.volumeWh));
      expect(BigInt(s.payment)).toBe((BigInt(s.deliveredWh) * 100_000n) / 1000n);
    }
    expect(settled.trades.some((t) => BigInt(t.settlement!.deliveredWh) > 0n)).toBe(true);

    // Identical on every validator: the market, each trade and its settlement, proven at one height on all four.
    const h = (await rpc<StatusJson>(urls[3]!, 'joule_status')).height;
    await until(
      'every node at height h',
      async () => ((await Promise.all(urls.map((u) => rpc<StatusJson>(u, 'joule_status')))).every((s) => s.height >= h) ? true : undefined),
      20_000,
    );
    const stateKeys = [settled.market!.stateKey, ...settled.trades.flatMap((t) => [t.stateKey, t.settlementKey])];
    for (const key of stateKeys) {
      const proofs = await Promise.all(urls.map((u) => rpc<{ value: string | null; stateRoot: string }>(u, 'joule_getProof', [key, h])));
      expect(proofs[0]!.value, key).not.toBeNull();
      for (const p of proofs) expect({ value: p.value, root: p.stateRoot }).toEqual({ value: proofs[0]!.value, root: proofs[0]!.stateRoot });
    }
    // And by the CLI, against a certified header, from a validator that took part in none of it.
    const proof = await runCli(['query', 'proof', `market:SIM@${start}`, '--rpc', urls[2]!]);
    expect(proof.code, proof.stderr).toBe(0);
    expect(proof.stdout).toMatch(/verified\s+yes \(inclusion proof\)/);
    expect(proof.stdout).toContain(
      `market SIM@${start}: cleared, 2 bid(s), 3 ask(s), ${settled.market!.volumeWh} Wh in ${cleared.trades} trade(s) at 100000 per kWh`,
    );
  }, 120_000);
});
