import { encode, type Encodable } from '../../core/codec.ts';
import { commandHash, commandHashPayload, type CommandFields } from '../../core/command.ts';
import { ErrorCode } from '../../core/errors.ts';
import { buildCommandAnchor, decodeCommandAnchorBody, encodeCommandAnchorBody } from '../../core/tx/command-anchor.ts';
import { TxType } from '../../core/tx/types.ts';
import { type Fields, type InvalidTxVector, invalid, tx } from './invalid-tx-builder.ts';
import { hex, toNotation, type Plain } from './notation.ts';
import type { HashVector } from './signing-vectors.ts';
import { CONTEXT_BLOCK } from './telemetry-vectors.ts';
import type { ValidTxVector } from './valid-txs.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * Grid commands' part of the vector file: the valid and one-defect invalid command-anchor
 * transactions (type 28), against the context's ev-0003 (dso-north's EV charger in NL), and
 * the command hash (`JOULE/grid-command/v1`: a hash, nothing is signed under the tag).
 */

const NOW_US = BigInt(CONTEXT_BLOCK.timestampMs) * 1000n;

/** dso-north curtails ev-0003 (zone NL) to 3,000 W at 150,000 micro-units/kWh for the five minutes from the block's time. */
export const VECTOR_COMMAND: CommandFields = {
  type: 3,
  deviceIds: ['ev-0003'],
  zone: 'NL',
  powerLimitW: 3000,
  priceMicroPerKwh: 150_000n,
  validFromUs: NOW_US,
  validUntilUs: NOW_US + 300_000_000n,
};

const commandJson = (c: CommandFields) => ({
  type: c.type,
  deviceIds: [...c.deviceIds],
  zone: c.zone ?? null,
  powerLimitW: c.powerLimitW,
  priceMicroPerKwh: c.priceMicroPerKwh.toString(),
  validFromUs: c.validFromUs.toString(),
  validUntilUs: c.validUntilUs.toString(),
});

type Vector = (name: string, description: string, signer: VectorKey, t: ReturnType<typeof buildCommandAnchor>, body: Record<string, unknown>) => ValidTxVector;

export function validCommandTxVectors(vector: Vector): ValidTxVector[] {
  const { north } = KEYS;
  return [
    vector(
      'command-anchor',
      "dso-north anchors its command to curtail ev-0003 (zone NL) to 3,000 W at 150,000 micro-units/kWh, valid for the 5 minutes from the block's time",
      north,
      buildCommandAnchor({ chainId: VECTOR_CHAIN_ID, seed: north.seed, nonce: 5, fee: 25n, ...VECTOR_COMMAND }),
      commandJson(VECTOR_COMMAND),
    ),
  ];
}

const wire = (c: Partial<CommandFields> & { deviceIds?: readonly string[] }): Encodable => {
  const f = { ...VECTOR_COMMAND, ...c };
  return [f.type, [...f.deviceIds], f.zone ?? null, f.powerLimitW, f.priceMicroPerKwh, f.validFromUs, f.validUntilUs];
};
const fields = (sender: VectorKey, body: Encodable): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type: TxType.commandAnchor,
  sender: sender.publicKey,
  nonce: 0,
  fee: 25n,
  body: encode(body),
});
const anchor = (sender: VectorKey, c: Partial<CommandFields>) => tx(fields(sender, wire(c)), {}, sender);

export function invalidCommandTxVectors(): InvalidTxVector[] {
  const { aggregator, north } = KEYS;
  const ended = NOW_US - 600_000_001n;
  return [
    invalid(
      'command-anchor-by-non-dso',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'aggregator-two (no dso role) commands meter-0001, which it operates',
      anchor(aggregator, { deviceIds: ['meter-0001'] }),
    ),
    invalid(
      'command-anchor-device-of-another-operator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.body.deviceIds[0]',
      'dso-north commands meter-0001, which aggregator-two operates',
      anchor(north, { deviceIds: ['meter-0001'] }),
    ),
    invalid(
      'command-anchor-unknown-device',
      'validateTx',
      ErrorCode.DEVICE_UNKNOWN,
      'tx.body.deviceIds[1]',
      'the second target, ev-0009, is not registered',
      anchor(north, { deviceIds: ['ev-0003', 'ev-0009'] }),
    ),
    invalid(
      'command-anchor-outside-zone',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.deviceIds[0]',
      'the command names zone BE; ev-0003 is in NL',
      anchor(north, { zone: 'BE' }),
    ),
    invalid(
      'command-anchor-targets-repeated',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.deviceIds[1]',
      'ev-0003 twice: targets are strictly ascending',
      anchor(north, { deviceIds: ['ev-0003', 'ev-0003'] }),
    ),
    invalid(
      'command-anchor-idle-with-power',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.powerLimitW',
      'an idle command (type 2) with a power limit of 3,000 W',
      anchor(north, { type: 2 }),
    ),
    invalid(
      'command-anchor-window-ends-before-it-starts',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.validUntilUs',
      'validUntilUs equal to validFromUs',
      anchor(north, { validUntilUs: NOW_US }),
    ),
    invalid(
      'command-anchor-expired',
      'validateTx',
      ErrorCode.COMMAND_EXPIRED,
      'tx.body.validUntilUs',
      "a window that ended 600,000,001 us (10 minutes and 1 us) before the block's time: beyond the anchor grace",
      anchor(north, { validFromUs: ended - 300_000_000n, validUntilUs: ended }),
    ),
  ];
}

/** The command hash of the valid vector's command. */
export function commandHashVectors(): HashVector[] {
  const record = { ...VECTOR_COMMAND, issuer: KEYS.north.address };
  const payload = commandHashPayload(VECTOR_CHAIN_ID, record);
  const value: Plain = ['JOULE/grid-command/v1', VECTOR_CHAIN_ID, record.issuer, ...(wire({}) as Plain[])];
  return [
    {
      name: 'command-hash',
      rule: 'sha256(encode(["JOULE/grid-command/v1", chainId, issuer, type, deviceIds, zone, powerLimitW, priceMicroPerKwh, validFromUs, validUntilUs]))',
      value: toNotation(value),
      encoded: hex(payload),
      hash: hex(commandHash(VECTOR_CHAIN_ID, record)),
    },
  ];
}

/** The body codec of type 28 seen through the vector file's JSON fields (vectors.test.ts BODY_CODECS). */
export const COMMAND_BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  'command-anchor': {
    fields: (b) => commandJson(decodeCommandAnchorBody(b)),
    encode: (b) => encodeCommandAnchorBody(decodeCommandAnchorBody(b)),
  },
};
