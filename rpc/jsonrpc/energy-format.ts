/**
 * JSON shapes of energy UTXOs and certificates (docs/json-rpc.md Energy). Pure, like
 * json-format.ts: no lookups, testable from plain values.
 */
import type { Certificate, EnergyProvenance, EnergyUtxo } from '../../core/energy.ts';
import { formatAddress } from '../../core/keys.ts';
import type { EnergyCertificateJson, EnergyUtxoJson, ProvenanceJson } from '../../core/rpc-json.ts';
import { certificateKey, energyUtxoKey } from '../../core/state-keys.ts';
import { hex } from './json-format.ts';

export function formatProvenance(p: EnergyProvenance): ProvenanceJson {
  return {
    deviceId: p.deviceId,
    kind: p.kind,
    zone: p.zone,
    intervalStartMs: p.intervalStartMs,
    intervalEndMs: p.intervalEndMs,
    carbonIntensity: p.carbonIntensity,
  };
}

export function formatEnergyUtxo(u: EnergyUtxo): EnergyUtxoJson {
  return {
    id: hex(u.id),
    owner: formatAddress(u.owner),
    wh: u.wh.toString(),
    provenance: formatProvenance(u.provenance),
    frozen: u.frozen,
    height: u.height,
    stateKey: hex(energyUtxoKey(u.id)),
  };
}

export function formatCertificate(c: Certificate): EnergyCertificateJson {
  return {
    id: hex(c.id),
    beneficiary: formatAddress(c.beneficiary),
    purpose: c.purpose,
    wh: c.wh.toString(),
    provenance: formatProvenance(c.provenance),
    height: c.height,
    time: c.time,
    stateKey: hex(certificateKey(c.id)),
  };
}
