import { toHex } from '../../../core/bytes.ts';
import { formatAddress } from '../../../core/keys.ts';
import { subscriptionMethods } from '../../../rpc/http/ws.ts';
import { Dispatcher, RpcErrorCode, type CallContext } from '../../../rpc/jsonrpc/jsonrpc.ts';
import { createMethods } from '../../../rpc/jsonrpc/methods.ts';
import { createFakeNode, fakeValidator, makeTransfer } from '../../../rpc/testing/fake-node.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { jsonInputs, text } from '../mutate-json.ts';

/** A valid call of every method, as a client would send it (`node` fills in real hashes and addresses). */
function requests(ids: { block: string; tx: string; address: string; rawTx: string }): unknown[] {
  const calls: [string, unknown[]][] = [
    ['joule_status', []],
    ['joule_getBlock', [1, true]],
    ['joule_getBlock', ['latest']],
    ['joule_getBlock', [ids.block, false]],
    ['joule_getBlock', ['2']],
    ['joule_getTransaction', [ids.tx]],
    ['joule_getAccount', [ids.address]],
    ['joule_sendRawTransaction', [ids.rawTx]],
    ['joule_getProof', [ids.address, 'latest']],
    ['joule_getProof', [`0x01${'ab'.repeat(20)}`, 1]],
    ['joule_getValidators', [1]],
    ['joule_getEvidence', [0, 10]],
    ['joule_getValidatorVotes', []],
    ['joule_subscribe', ['newBlocks']],
    ['joule_unsubscribe', ['0x00']],
  ];
  const single = calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: i, method, params }));
  return [...single, single.slice(0, 5), [single[7], { jsonrpc: '2.0', method: 'joule_status' }], { jsonrpc: '2.0', id: 'x', method: 'joule_status' }];
}

/**
 * JSON-RPC request bodies (HTTP and WebSocket text), through the dispatcher and every method
 * (rpc/jsonrpc/), over the in-memory fake node of rpc/testing/: the transport-free handle
 * path of a real server. It must answer every input without throwing, with valid JSON, and
 * never with "internal error" (-32603): that answer means a method threw something other
 * than a typed error, which the dispatcher logs as this node's bug.
 */
export const rpcTarget: FuzzTarget = {
  name: 'rpc',
  description: 'JSON-RPC request handling: Dispatcher.handleText and every method over rpc/testing/fake-node.ts',
  quickRuns: 1500,
  reaches: ['result', 'error -32602', 'error -32000'],
  setup() {
    const node = createFakeNode();
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20).fill(5), 100n);
    node.commit([tx]);
    node.commit([makeTransfer(node.alice.seed, 1, new Uint8Array(20).fill(6), 1n)]);
    const v = fakeValidator(1);
    node.evidence.push({ id: new Uint8Array(32).fill(1), height: 1, round: 0, kind: 1, author: v.address, includedAt: 2 });
    node.proposals.push({ id: new Uint8Array(32).fill(2), action: 0, name: 'cand', identityKey: v.identityKey, blsKey: v.blsKey, voters: [v.address] });
    let internal: unknown;
    const logger = { debug() {}, info() {}, warn() {}, error: (obj: unknown) => void (internal ??= obj) };
    const dispatcher = new Dispatcher({ methods: new Map([...createMethods(node), ...subscriptionMethods(32)]), logger });
    const corpus = requests({
      block: `0x${toHex(node.blocks[1]!.hash)}`,
      tx: `0x${toHex(tx.hash)}`,
      address: formatAddress(node.alice.address),
      rawTx: `0x${toHex(makeTransfer(node.alice.seed, 2, new Uint8Array(20).fill(7), 3n).bytes)}`,
    });
    return {
      inputs: jsonInputs(corpus),
      async run(input) {
        const body = text(input);
        // A WebSocket connection's session as rpc/http/ws.ts keeps it (the socket itself is not used by the methods).
        const closed = new AbortController();
        const session = { ws: undefined, subs: new Map<string, Buffer>(), closed, alive: true, inFlight: 0 };
        const contexts: CallContext[] = [
          { transport: 'http', signal: new AbortController().signal },
          { transport: 'ws', session, signal: closed.signal },
        ];
        let outcome = 'ok';
        for (const ctx of contexts) {
          internal = undefined;
          const out = await dispatcher.handleText(body, ctx);
          node.submitted.length = 0; // the fake keeps what it was sent: forget it, memory stays bounded
          if (internal !== undefined) {
            const err = (internal as { err?: unknown }).err;
            throw err instanceof Error ? err : violation(`internal error: ${JSON.stringify(internal)}`);
          }
          if (out === undefined) {
            outcome = 'no answer (notifications)';
            continue;
          }
          const answer = JSON.parse(out) as unknown;
          const answers = Array.isArray(answer) ? answer : [answer];
          for (const a of answers as { error?: { code: number } }[]) {
            if (a.error?.code === RpcErrorCode.INTERNAL_ERROR) throw violation('answered internal error without logging it');
          }
          const first = answers[0] as { error?: { code: number } } | undefined;
          if (ctx.transport === 'http') outcome = first?.error === undefined ? 'result' : `error ${first.error.code}`;
        }
        return outcome;
      },
    };
  },
};
