/**
 * Transaction type ids. The VM's registry (vm/registry.ts) maps each id to its validation
 * and execution; each body codec clients need lives beside this file (transfer.ts,
 * validator-vote.ts, evidence.ts). Ids are part of the signed envelope, so they are never
 * reused or renumbered.
 */
export const TxType = {
  transfer: 1,
  /** Validator set change by vote of the current validators (vm/validator-vote.ts). */
  validatorVote: 2,
  /** Equivocation evidence: body = core/evidence.ts encodeEvidence (vm/evidence.ts). */
  evidence: 3,
  // 16..31 energy ledger (issue 9), 32..47 markets.
  /** A dso or aggregator registers a device it operates, with the key's proof of possession (vm/devices/). */
  deviceRegister: 16,
  /** The operator (or a validator majority) changes a device's zone, limits, operator, carbon intensity, check meter. */
  deviceUpdate: 17,
  /** Suspend, revoke (final) or reactivate a device: the operator or a validator majority. */
  deviceStatus: 18,
  /** The operator gives a device a new key (with its proof of possession); the old one stays in the key history. */
  deviceRekey: 19,
  /** An aggregator's readings of many devices under one aggregate BLS signature. */
  telemetryBatch: 20,
  /** An oracle posts a zone's grid carbon intensity for an interval. */
  gridIntensity: 21,
  energyTransfer: 22,
  energyRetire: 23,
  currencyMint: 24,
  currencyBurn: 25,
  /** A validator's vote to grant or revoke an energy role; applies at a majority (vm/role-vote.ts). */
  roleVote: 26,
  /** A dso resolves a check-meter disagreement (a frozen interval). */
  checkMeterResolution: 27,
  /** A dso anchors the hash of a grid command it issued (core/command.ts): type, targets, limit, price, window. */
  commandAnchor: 28,
  /** A bid or an ask in a (zone, interval) market of the double auction; escrow or collateral locked (vm/markets/). */
  orderPlace: 32,
  /** The owner withdraws an order before its market's gate closure: refunded in full. */
  orderCancel: 33,
  /** A party proposes a bilateral agreement (vm/agreements/); its id is the tx's hash. */
  agreementPropose: 34,
  /** The counterparty signs: the 60 s cooling-off starts at the block's time. */
  agreementSign: 35,
  /** Either party withdraws a proposal, or a signed agreement during its cooling-off. */
  agreementWithdraw: 36,
  /** A party posts (or tops up) its collateral from its balance. */
  agreementCollateralise: 37,
  /** A party disputes an amount: frozen until a validator majority decides. */
  agreementDispute: 38,
  /** A validator's vote on an agreement's open dispute (for the buyer or the seller). */
  agreementVote: 39,
  // 42..45 flexibility (vm/flex/)
  /** An aggregator offers its fleet's flexibility: capacity, ramps, state of charge, price per MWh, availability. */
  flexBid: 42,
  /** A dso activates a flexibility bid for a window (power); it anchors the fleet's grid command and escrows the payment. */
  flexActivate: 43,
  /** The aggregator confirms an activation within 30 s of the activating block's time. */
  flexConfirm: 44,
  /** The aggregator withdraws a bid: its availability ends now (or at the end of its latest activation's window, which stands). */
  flexWithdraw: 45,
  /** A governor proposes reversing a trade's settlement, with a reason; its proposal counts as its approval (vm/markets/reversal.ts). */
  reversalPropose: 46,
  /** Another governor approves a proposed reversal; the k-th approval executes it. */
  reversalApprove: 47,
} as const;
export type TxTypeId = (typeof TxType)[keyof typeof TxType];
