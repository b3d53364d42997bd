import { blockHash } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { encodeProof, keyPath } from '../../core/proof.ts';
import type { ProofView } from '../../rpc/node-api.ts';
import type { FakeNode } from '../../rpc/testing/fake-node.ts';
import { buildTree, makeLeaf, nodeHash, proveInTree } from '../../state/tree.ts';

export interface ProvenState {
  /** What the fake node's getProof answers: a real proof, at the block that commits to the records. */
  readonly getProof: (key: Uint8Array) => Promise<ProofView>;
  /** The keys asked for, as hex, in order. */
  readonly asked: string[];
}

/**
 * Test helper: a state holding `records` (key, value), provable for real, so `joule query
 * proof` verifies and prints what it decodes. Commits a block on `fake` whose header's state
 * root is the records' tree root; a key not among them gets an exclusion proof.
 */
export function provenState(fake: FakeNode, records: readonly (readonly [Uint8Array, Uint8Array])[]): ProvenState {
  const root = buildTree(records.map(([k, v]) => makeLeaf(keyPath(k), v)));
  const committed = fake.commit();
  const header = { ...committed.block.header, stateRoot: nodeHash(root) };
  fake.blocks[header.height] = { ...committed, block: { ...committed.block, header }, hash: blockHash(header) };
  const values = new Map(records.map(([k, v]) => [toHex(k), v]));
  const asked: string[] = [];
  return {
    asked,
    getProof: async (key) => {
      asked.push(toHex(key));
      return { height: header.height, stateRoot: header.stateRoot, value: values.get(toHex(key)), proof: encodeProof(proveInTree(root, keyPath(key))) };
    },
  };
}
