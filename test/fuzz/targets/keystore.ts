import { equalBytes } from '../../../core/bytes.ts';
import { isJouleError } from '../../../core/errors.ts';
import { encryptKeySync, readKeyInfo, type KeyType } from '../../../core/keystore.ts';
import { parseKeyFile } from '../../../node/home/keys.ts';
import { fuzzBls, fuzzEd25519 } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { jsonInputs, text } from '../mutate-json.ts';

const PASSPHRASE = 'fuzzing the keystore';
/** What a broken key file is: the file's own errors, which name the field. */
const KEYSTORE_CODES: readonly string[] = ['KEYSTORE_INVALID', 'KEYSTORE_BAD_PASSPHRASE'];

/**
 * Key files as a node reads them at start (node/home/keys.ts parseKeyFile: JSON, header,
 * scrypt parameters, AES-GCM, the secret against the public key) and as `joule keys show`
 * reads their public part (readKeyInfo). Key files come from backups, other machines and
 * other people's tools: a broken or hostile one must be a typed KEYSTORE_* error, in
 * bounded time and memory (the scrypt parameters are the file's to choose). The corpus is
 * encrypted with small scrypt parameters, so that valid files stay cheap to open.
 */
export const keystoreTarget: FuzzTarget = {
  name: 'keystore',
  description: 'key files: node/home/keys.ts parseKeyFile (core/keystore.ts decryptKey) and readKeyInfo',
  quickRuns: 1500,
  reaches: ['opened ed25519', 'opened bls'],
  // A file may ask for scrypt work up to n*r*p = 2^21: a few seconds on a busy machine.
  limitMs: 15_000,
  setup() {
    const scrypt = { n: 16, r: 1, p: 1 };
    const ed = fuzzEd25519('keystore', 0);
    const bls = fuzzBls('keystore', 0);
    const corpus = [
      encryptKeySync({ type: 'ed25519', secret: ed.seed, passphrase: PASSPHRASE, scrypt }),
      encryptKeySync({ type: 'bls', secret: bls.secretKey, passphrase: PASSPHRASE, scrypt }),
      encryptKeySync({ type: 'ed25519', secret: ed.seed, insecure: true }),
      encryptKeySync({ type: 'bls', secret: bls.secretKey, insecure: true }),
    ];
    return {
      inputs: jsonInputs(corpus),
      async run(input) {
        const body = text(input);
        let info: ReturnType<typeof readKeyInfo> | undefined;
        try {
          info = readKeyInfo(JSON.parse(body));
        } catch (e) {
          if (!(e instanceof SyntaxError) && !isJouleError(e)) throw e;
          if (isJouleError(e) && !KEYSTORE_CODES.includes(e.code))
            throw violation(`a key file's header refused with ${e.code}, not a KEYSTORE_* code: ${e.message}`);
        }
        let outcome = info === undefined ? 'rejected' : 'header ok';
        for (const type of ['ed25519', 'bls'] as KeyType[]) {
          try {
            const key = await parseKeyFile(body, 'fuzz.key', type, PASSPHRASE);
            if (info === undefined || !equalBytes(info.publicKey, key.publicKey))
              throw violation('a key opened whose header readKeyInfo refused or reads differently');
            outcome = `opened ${type}`;
          } catch (e) {
            if (!isJouleError(e)) throw e;
            if (!KEYSTORE_CODES.includes(e.code)) throw violation(`a key file refused with ${e.code}, not a KEYSTORE_* code: ${e.message}`);
          }
        }
        return outcome;
      },
    };
  },
};
