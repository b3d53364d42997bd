import { describe, expect, it } from 'vitest';
import { u64be, utf8 } from '../../core/bytes.ts';
import { encodeCommandPayment, encodeFlexActivation, encodeFlexBid, encodeFlexIntervalResult, type CommandPayment } from '../../core/flex.ts';
import { FlexBucket, flexActivationKey, flexBidKey, flexIntervalKey, flexKey } from '../../core/state-keys.ts';
import { activationId, bidId, flexActivation, flexBid, flexInterval, START } from '../../rpc/testing/flex-fixtures.ts';
import { commandPaymentKey } from '../../state/flex.ts';
import { decodeStateValue } from './state-views.ts';

const commandHash = new Uint8Array(32).fill(0xc1);
const payment: CommandPayment = { owner: new Uint8Array(20).fill(3), exportWh: 700n, limitWh: 500n, due: 40n, paid: 30n, height: 14 };

describe('decodeStateValue of flexibility records', () => {
  it('decodes a bid, an activation, an interval result and a command payment, the ids taken from their keys', () => {
    expect(decodeStateValue(flexBidKey(bidId), encodeFlexBid(flexBid))).toEqual({ kind: 'flex-bid', bidId, bid: flexBid });
    expect(decodeStateValue(flexActivationKey(activationId), encodeFlexActivation(flexActivation))).toEqual({
      kind: 'flex-activation',
      activationId,
      activation: flexActivation,
    });
    expect(decodeStateValue(flexIntervalKey(activationId, START), encodeFlexIntervalResult(flexInterval))).toEqual({
      kind: 'flex-interval',
      activationId,
      intervalStartMs: START,
      result: flexInterval,
    });
    expect(decodeStateValue(commandPaymentKey(commandHash, START, 'bat-0'), encodeCommandPayment(payment))).toEqual({
      kind: 'command-payment',
      commandHash,
      intervalStartMs: START,
      deviceId: 'bat-0',
      payment,
    });
  });

  it('refuses a record under the key of another kind of flex record', () => {
    expect(decodeStateValue(flexActivationKey(bidId), encodeFlexBid(flexBid))).toBeUndefined();
    expect(decodeStateValue(flexBidKey(activationId), encodeFlexActivation(flexActivation))).toBeUndefined();
    expect(decodeStateValue(flexIntervalKey(activationId, START), encodeCommandPayment(payment))).toBeUndefined();
    expect(decodeStateValue(commandPaymentKey(commandHash, START, 'bat-0'), encodeFlexIntervalResult(flexInterval))).toBeUndefined();
  });

  it('refuses a key of the wrong shape: an id not 32 bytes, an interval without its start, a device id that is not one', () => {
    expect(decodeStateValue(flexKey(FlexBucket.bid, bidId.subarray(1)), encodeFlexBid(flexBid))).toBeUndefined();
    expect(decodeStateValue(flexKey(FlexBucket.bid, bidId, new Uint8Array([0])), encodeFlexBid(flexBid))).toBeUndefined();
    expect(decodeStateValue(flexKey(FlexBucket.interval, activationId), encodeFlexIntervalResult(flexInterval))).toBeUndefined();
    expect(
      decodeStateValue(flexKey(FlexBucket.interval, activationId, u64be(START), new Uint8Array([1])), encodeFlexIntervalResult(flexInterval)),
    ).toBeUndefined();
    expect(decodeStateValue(flexKey(FlexBucket.commandPayment, commandHash, u64be(START)), encodeCommandPayment(payment))).toBeUndefined();
    const badDevice = flexKey(FlexBucket.commandPayment, commandHash, u64be(START), utf8('bat 0'));
    expect(decodeStateValue(badDevice, encodeCommandPayment(payment))).toBeUndefined();
    const pastSafe = flexKey(FlexBucket.interval, activationId, u64be(2n ** 64n - 1n));
    expect(decodeStateValue(pastSafe, encodeFlexIntervalResult(flexInterval))).toBeUndefined();
  });
});
