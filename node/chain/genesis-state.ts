import type { Block, BlockHeader } from '../../core/block.ts';
import { ZERO_HASH } from '../../core/hash.ts';
import { ADDRESS_LENGTH } from '../../core/keys.ts';
import { ValidatorSet } from '../../core/validators.ts';
import type { Genesis } from '../../genesis/types.ts';
import { rolesToBits } from '../../core/roles.ts';
import { putAccount } from '../../state/accounts.ts';
import { EMPTY_STATE, StateOverlay, type StateChange } from '../../state/overlay.ts';
import { putValidatorSet } from '../../state/validator-set.ts';
import { putGovernorSet } from '../../state/reversals.ts';
import { putSupply } from '../../state/supply.ts';

/** The state changes genesis makes: funded accounts with roles, the total supply, the validator set, the governors. */
export function genesisChanges(genesis: Genesis): StateChange[] {
  const overlay = new StateOverlay(EMPTY_STATE);
  let supply = 0n;
  for (const a of genesis.accounts) {
    putAccount(overlay, a.address, { nonce: 0, balance: a.balance, locked: 0n, roles: rolesToBits(a.roles) });
    supply += a.balance;
  }
  putSupply(overlay, supply);
  putValidatorSet(overlay, new ValidatorSet(genesis.validators));
  if (genesis.governors !== undefined && genesis.governors.length > 0)
    putGovernorSet(overlay, { threshold: genesis.governorThreshold!, governors: genesis.governors });
  return overlay.changes();
}

/**
 * Height 0: a header with no parent, no proposer and no transactions whose state root
 * commits to the genesis state. Its hash is the parent of block 1.
 */
export function genesisBlock(genesis: Genesis, stateRoot: Uint8Array): Block {
  const header: BlockHeader = {
    chainId: genesis.chainId,
    height: 0,
    round: 0,
    parentHash: ZERO_HASH,
    timestamp: genesis.genesisTime,
    proposer: new Uint8Array(ADDRESS_LENGTH),
    txRoot: ZERO_HASH,
    stateRoot,
    receiptsRoot: ZERO_HASH,
    validatorSetHash: new ValidatorSet(genesis.validators).hash,
    txCount: 0,
    parentCertificate: null,
  };
  return { header, txs: [] };
}
