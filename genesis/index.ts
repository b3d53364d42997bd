/** The genesis file: schema and validation, canonical hash, loading, devnet generation. */
export type { Genesis, GenesisAccount, GenesisJson, GenesisProblem, GenesisValidator, GenesisValidatorJson } from './types.ts';
export { checkGenesis, validateGenesis, parseGenesis, CHAIN_ID_PATTERN, MAX_VALIDATORS } from './validate.ts';
export { genesisHash, genesisToJson, genesisToWire, genesisValidatorSet } from './encode.ts';
export { paramsToJson, paramsToWire, TIER_NAMES } from './params.ts';
export { generateDevnet, DEFAULT_DEVNET_BALANCE, DEFAULT_DEVNET_CHAIN_ID, type Devnet, type DevnetOptions } from './devnet.ts';
export { loadGenesis, genesisFileText, parseJsonText, writeDevnetFiles, type DevnetFiles, type DevnetKeyProtection } from './files.ts';
export { assembleGenesis, tryAssemble, type AssembleInput, type AssembleValidator, type Assembled } from './assemble.ts';
