import { status, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { IssuedCommand } from '../../core/command.ts';
import { isDeviceId } from '../../core/device.ts';
import { ErrorCode } from '../../core/errors.ts';
import type { NodeApi, ReadingAck, RpcLogger, StoredBlock } from '../node-api.ts';
import { blockMessage, commandMessage, READING_OUTCOMES, readingAckMessage } from './joule-messages.ts';
import { PerAddressLimit } from '../per-address-limit.ts';
import { peerAddress } from './peer-address.ts';
import { serviceError, toServiceError } from './status.ts';

export interface EventStreamLimits {
  /** Messages queued to one subscriber (not yet taken by its connection) past which it is a slow consumer and dropped. */
  readonly maxQueuedMessages: number;
  /** Subscribers of one stream kind at once; more are refused with RESOURCE_EXHAUSTED. */
  readonly maxSubscribers: number;
  /** Of those, the most one remote address may hold, so one host cannot take them all. */
  readonly maxSubscribersPerAddress: number;
  /** Devices one acknowledgement subscription may name. */
  readonly maxAckDevices: number;
  /**
   * Messages an acknowledgement subscriber may have queued besides maxQueuedMessages, per
   * device it names: a block's final acks for all its devices come at once (1,000 devices
   * reporting each second are 1,000 acks in one go), so a fixed bound dropped every large
   * fleet's subscriber at its first full block.
   */
  readonly ackQueuedPerDevice: number;
}

export const EVENT_STREAM_LIMITS: EventStreamLimits = {
  maxQueuedMessages: 256,
  maxSubscribers: 256,
  maxSubscribersPerAddress: 32,
  maxAckDevices: 1000,
  ackQueuedPerDevice: 4,
};

/** Told when a subscriber is dropped as a slow consumer (metrics). */
export type OnSlowConsumer = (stream: 'events' | 'reading-acks') => void;

/**
 * One subscriber: writes until its connection has `maxQueuedMessages` messages it has not
 * taken, then is dropped (RESOURCE_EXHAUSTED, SLOW_CONSUMER) and never written to again, so
 * a client that stops reading costs a bounded amount of memory, as rpc/http/ws.ts does for
 * WebSocket. The queue is grpc-js' own writable buffer, counted in messages.
 */
class Subscriber {
  private readonly call: ServerWritableStream<unknown, unknown>;
  private readonly max: number;
  private readonly onDrop: () => void;
  closed = false;

  constructor(call: ServerWritableStream<unknown, unknown>, max: number, onDrop: () => void) {
    this.call = call;
    this.max = max;
    this.onDrop = onDrop;
  }

  send(message: unknown): void {
    if (this.closed) return;
    if (this.call.writableLength >= this.max) {
      this.closed = true;
      this.onDrop();
      this.call.emit(
        'error',
        serviceError(status.RESOURCE_EXHAUSTED, `${ErrorCode.SLOW_CONSUMER}: more than ${this.max} messages not read`, { code: ErrorCode.SLOW_CONSUMER }),
      );
      return;
    }
    this.call.write(message);
  }
}

/**
 * Subscribers of one kind share one listener on the node (NodeApi.on caps listeners per
 * event type): it is added with the first subscriber and removed with the last. Listeners
 * run in the node's commit path, so fan-out only queues (Subscriber.send never waits).
 */
class Hub<E> {
  private readonly subscribe: (listener: (e: E) => void) => () => void;
  private readonly subs = new Map<Subscriber, (e: E) => unknown>();
  private unsubscribe: (() => void) | undefined;

  constructor(subscribe: (listener: (e: E) => void) => () => void) {
    this.subscribe = subscribe;
  }

  get size(): number {
    return this.subs.size;
  }

  /** `format` gives the message for the subscriber, or undefined to skip the event. */
  add(s: Subscriber, format: (e: E) => unknown): void {
    if (this.unsubscribe === undefined) this.unsubscribe = this.subscribe((e) => this.fanOut(e));
    this.subs.set(s, format);
  }

  remove(s: Subscriber): void {
    this.subs.delete(s);
    if (this.subs.size === 0 && this.unsubscribe !== undefined) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  private fanOut(e: E): void {
    for (const [s, format] of [...this.subs]) {
      const m = format(e);
      if (m !== undefined) s.send(m);
    }
  }
}

interface SubscribeRequest {
  blocks?: boolean;
  commands?: boolean;
}
interface AckRequest {
  device_ids?: string[];
  /** Outcome names (ReadingAck.Outcome); none: every outcome. */
  outcomes?: string[];
}

/**
 * `format` made once per event for all subscribers: a fan-out calls it with the same event for
 * each, so 256 subscribers hash a block's txs once, and their queues share one message.
 */
function oncePerEvent<E, M>(format: (e: E) => M): (e: E) => M {
  let last: { e: E; m: M } | undefined;
  return (e) => {
    if (last === undefined || last.e !== e) last = { e, m: format(e) };
    return last.m;
  };
}

/** joule.v1.EventService: finalized blocks and issued commands, and per-reading acknowledgements. */
export function eventService(api: NodeApi, limits: EventStreamLimits, logger?: RpcLogger, onSlow?: OnSlowConsumer): UntypedServiceImplementation {
  const blocks = new Hub<StoredBlock>((l) => api.on('block-committed', l));
  const commands = new Hub<IssuedCommand>((l) => api.on('command-issued', l));
  const acks = api.onReadingAck === undefined ? undefined : new Hub<ReadingAck>((l) => api.onReadingAck!(l));
  const blockEvent = oncePerEvent((b: StoredBlock) => ({ block: blockMessage(b) }));
  const commandEvent = oncePerEvent((c: IssuedCommand) => ({ command: commandMessage(c) }));
  let eventSubscribers = 0;
  const eventsPerAddress = new PerAddressLimit(limits.maxSubscribersPerAddress);
  const acksPerAddress = new PerAddressLimit(limits.maxSubscribersPerAddress);

  /** A place for the call's address in `perAddress`: the function that gives it back, or undefined (and the call ended RESOURCE_EXHAUSTED). */
  function placeFor(call: ServerWritableStream<unknown, unknown>, perAddress: PerAddressLimit): (() => void) | undefined {
    const giveBack = perAddress.admit(peerAddress(call.getPeer()));
    if (giveBack === undefined)
      call.emit(
        'error',
        serviceError(status.RESOURCE_EXHAUSTED, `RATE_LIMITED: at most ${perAddress.maxPerAddress} subscribers from one address`, { code: 'RATE_LIMITED' }),
      );
    return giveBack;
  }

  /** Registers `s` in its hubs until the call ends, whichever way; then gives its address's place back. */
  function hold(call: ServerWritableStream<unknown, unknown>, s: Subscriber, giveBack: () => void, join: () => void, leave: () => void): void {
    let left = false;
    const end = () => {
      if (left) return;
      left = true;
      s.closed = true;
      leave();
      giveBack();
    };
    call.on('cancelled', end);
    call.on('close', end);
    call.on('finish', end);
    call.on('error', end);
    try {
      join();
    } catch (e) {
      end();
      call.emit('error', toServiceError(e, logger));
    }
  }

  return {
    Subscribe(call: ServerWritableStream<SubscribeRequest, unknown>): void {
      const req = call.request ?? {};
      if (req.blocks !== true && req.commands !== true)
        return void call.emit(
          'error',
          serviceError(status.INVALID_ARGUMENT, 'INVALID_PARAMS: subscribe to blocks, commands or both', { code: 'INVALID_PARAMS' }),
        );
      if (eventSubscribers >= limits.maxSubscribers)
        return void call.emit(
          'error',
          serviceError(status.RESOURCE_EXHAUSTED, `RATE_LIMITED: at most ${limits.maxSubscribers} subscribers`, { code: 'RATE_LIMITED' }),
        );
      const giveBack = placeFor(call, eventsPerAddress);
      if (giveBack === undefined) return;
      eventSubscribers++;
      const s = new Subscriber(call, limits.maxQueuedMessages, () => {
        onSlow?.('events');
        logger?.warn({ peer: call.getPeer() }, 'dropping slow grpc event subscriber');
        leave();
      });
      let joined = false;
      const leave = () => {
        if (!joined) return;
        joined = false;
        eventSubscribers--;
        blocks.remove(s);
        commands.remove(s);
      };
      hold(
        call,
        s,
        giveBack,
        () => {
          joined = true;
          if (req.blocks === true) blocks.add(s, blockEvent);
          if (req.commands === true) commands.add(s, commandEvent);
        },
        leave,
      );
    },

    SubscribeReadingAcks(call: ServerWritableStream<AckRequest, unknown>): void {
      if (acks === undefined)
        return void call.emit('error', serviceError(status.UNAVAILABLE, 'UNAVAILABLE: this node does not acknowledge readings', { code: 'UNAVAILABLE' }));
      const ids = call.request?.device_ids ?? [];
      if (ids.length === 0 || ids.length > limits.maxAckDevices)
        return void call.emit(
          'error',
          serviceError(status.INVALID_ARGUMENT, `INVALID_PARAMS: device_ids: name 1..${limits.maxAckDevices} devices`, {
            code: 'INVALID_PARAMS',
            field: 'device_ids',
          }),
        );
      const bad = ids.findIndex((id) => !isDeviceId(id));
      if (bad >= 0)
        return void call.emit(
          'error',
          serviceError(status.INVALID_ARGUMENT, `INVALID_PARAMS: device_ids[${bad}]: not a device id`, { code: 'INVALID_PARAMS', field: `device_ids[${bad}]` }),
        );
      if (acks.size >= limits.maxSubscribers)
        return void call.emit(
          'error',
          serviceError(status.RESOURCE_EXHAUSTED, `RATE_LIMITED: at most ${limits.maxSubscribers} subscribers`, { code: 'RATE_LIMITED' }),
        );
      const giveBack = placeFor(call, acksPerAddress);
      if (giveBack === undefined) return;
      const wanted = new Set(ids);
      const outcomes = new Set(call.request?.outcomes ?? []);
      const s = new Subscriber(call, limits.maxQueuedMessages + limits.ackQueuedPerDevice * wanted.size, () => {
        onSlow?.('reading-acks');
        acks.remove(s);
      });
      hold(
        call,
        s,
        giveBack,
        () =>
          acks.add(s, (a) => (wanted.has(a.deviceId) && (outcomes.size === 0 || outcomes.has(READING_OUTCOMES[a.outcome])) ? readingAckMessage(a) : undefined)),
        () => acks.remove(s),
      );
    },
  };
}
