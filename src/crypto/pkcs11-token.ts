import { existsSync } from 'node:fs';
import { TokenError, type KeyToken, type OpenToken, type TokenErrorCode } from './token.js';

/**
 * KeyToken over a PKCS#11 module (SoftHSM2, a real HSM) through the npm
 * binding `pkcs11js`, which is loaded only when a custom key store connects
 * (it is a native addon; hanul starts without it). Keys are generated in the
 * token as sensitive, non-extractable CKK_AES objects and used with
 * CKM_AES_GCM: their value never crosses the PKCS#11 boundary.
 */
type Attr = { type: number; value?: number | boolean | string | Buffer };
interface P11 {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(present: boolean): Buffer[];
  C_GetTokenInfo(slot: Buffer): { label: string };
  C_OpenSession(slot: Buffer, flags: number): Buffer;
  C_CloseSession(session: Buffer): void;
  C_Login(session: Buffer, userType: number, pin: string): void;
  C_GenerateKey(session: Buffer, mech: { mechanism: number }, template: Attr[]): Buffer;
  C_FindObjectsInit(session: Buffer, template: Attr[]): void;
  C_FindObjects(session: Buffer, max: number): Buffer[];
  C_FindObjectsFinal(session: Buffer): void;
  C_EncryptInit(session: Buffer, mech: { mechanism: number; parameter: object }, key: Buffer): void;
  C_Encrypt(session: Buffer, data: Buffer, out: Buffer): Buffer;
  C_DecryptInit(session: Buffer, mech: { mechanism: number; parameter: object }, key: Buffer): void;
  C_Decrypt(session: Buffer, data: Buffer, out: Buffer): Buffer;
  C_GenerateRandom(session: Buffer, out: Buffer): Buffer;
  C_DestroyObject(session: Buffer, obj: Buffer): void;
}
type P11Module = { PKCS11: new () => P11 } & Record<string, number>;

/** The npm package name, in a variable so TypeScript does not require it to be installed. */
const BINDING = 'pkcs11js';

export async function loadPkcs11Binding(): Promise<P11Module | undefined> {
  try {
    const m = (await import(BINDING)) as { default?: P11Module } & P11Module;
    return m.default ?? m;
  } catch {
    return undefined;
  }
}

/** The PKCS#11 return value name in a binding error ("CKR_PIN_INCORRECT:160" → CKR_PIN_INCORRECT). */
const ckr = (e: unknown): string => /CKR_[A-Z_]+/.exec(e instanceof Error ? `${e.message} ${e.stack ?? ''}` : String(e))?.[0] ?? 'unknown';

/**
 * A PKCS#11 module may be initialized once per process: every token (custom
 * key store) of one module shares one initialized instance, finalized when
 * the last token closes (finalizing earlier would kill the other stores' sessions).
 */
interface LoadedModule {
  p11: P11;
  k: (name: string) => number;
  refs: number;
}
const loaded = new Map<string, LoadedModule>();

async function acquireModule(modulePath: string): Promise<LoadedModule> {
  const have = loaded.get(modulePath);
  if (have) {
    have.refs++;
    return have;
  }
  const lib = await loadPkcs11Binding();
  if (!lib) throw new TokenError('INTERNAL_ERROR', 'The PKCS#11 binding (npm package pkcs11js) is not installed.');
  if (!existsSync(modulePath)) throw new TokenError('INTERNAL_ERROR', `PKCS#11 module not found at ${modulePath} (install softhsm2 or set HANUL_KMS_PKCS11_MODULE).`);
  const again = loaded.get(modulePath); // another connect loaded it while the binding was importing
  if (again) {
    again.refs++;
    return again;
  }
  const k = (name: string): number => {
    const v = lib[name];
    if (typeof v !== 'number') throw new TokenError('INTERNAL_ERROR', `pkcs11js lacks ${name}`);
    return v;
  };
  const p11 = new lib.PKCS11();
  try {
    p11.load(modulePath);
    p11.C_Initialize();
  } catch (e) {
    throw new TokenError('INTERNAL_ERROR', `cannot load PKCS#11 module ${modulePath}: ${ckr(e) === 'unknown' ? (e as Error).message : ckr(e)}`);
  }
  const m: LoadedModule = { p11, k, refs: 1 };
  loaded.set(modulePath, m);
  return m;
}

function releaseModule(modulePath: string, m: LoadedModule): void {
  if (--m.refs > 0) return;
  loaded.delete(modulePath);
  try {
    m.p11.C_Finalize();
  } catch {
    // Already finalized: nothing holds it.
  }
}

/** C_Login failures in the words of ConnectionErrorCode. */
function loginError(e: unknown): TokenError {
  const code = ckr(e);
  const map: Record<string, [TokenErrorCode, string]> = {
    CKR_PIN_INCORRECT: ['INVALID_CREDENTIALS', 'the token refused the key store password'],
    CKR_PIN_LEN_RANGE: ['INVALID_CREDENTIALS', 'the token refused the key store password'],
    CKR_PIN_LOCKED: ['USER_LOCKED_OUT', 'the token user is locked out'],
    CKR_USER_PIN_NOT_INITIALIZED: ['USER_NOT_FOUND', 'the token has no user PIN'],
    CKR_USER_ALREADY_LOGGED_IN: ['USER_LOGGED_IN', 'the token user is already logged in'],
  };
  const [c, msg] = map[code] ?? ['INTERNAL_ERROR', `login failed: ${code}`];
  return new TokenError(c, msg);
}

export function pkcs11Opener(modulePath: string): OpenToken {
  return async (tokenLabel, password) => {
    const mod = await acquireModule(modulePath);
    const { p11, k } = mod;
    let session: Buffer | undefined;
    try {
      const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === tokenLabel);
      if (!slot) throw new TokenError('CLUSTER_NOT_FOUND', `no PKCS#11 token labelled ${tokenLabel}`);
      session = p11.C_OpenSession(slot, k('CKF_RW_SESSION') | k('CKF_SERIAL_SESSION'));
      try {
        p11.C_Login(session, k('CKU_USER'), password);
      } catch (e) {
        throw loginError(e);
      }
    } catch (e) {
      if (session) p11.C_CloseSession(session);
      releaseModule(modulePath, mod);
      throw e instanceof TokenError ? e : new TokenError('INTERNAL_ERROR', `cannot open token ${tokenLabel}: ${ckr(e)}`);
    }
    const s = session;
    // Object handles by label: a search per operation would cost more than the AES itself.
    const handles = new Map<string, Buffer>();
    const lookup = (label: string): Buffer => {
      p11.C_FindObjectsInit(s, [{ type: k('CKA_CLASS'), value: k('CKO_SECRET_KEY') }, { type: k('CKA_LABEL'), value: label }]);
      try {
        const [h] = p11.C_FindObjects(s, 1);
        if (!h) throw new Error(`no key ${label} in the token`);
        handles.set(label, h);
        return h;
      } finally {
        p11.C_FindObjectsFinal(s);
      }
    };
    /** Runs `op` with the key's handle; a stale handle (object destroyed and recreated elsewhere) is looked up again once. */
    const withKey = <T>(label: string, op: (h: Buffer) => T): T => {
      const cached = handles.get(label);
      if (cached) {
        try {
          return op(cached);
        } catch (e) {
          if (!/HANDLE_INVALID/.test(ckr(e))) throw e;
          handles.delete(label);
        }
      }
      return op(lookup(label));
    };
    const gcm = (iv: Buffer, aad: Buffer) => ({ mechanism: k('CKM_AES_GCM'), parameter: { type: k('CK_PARAMS_AES_GCM'), iv, aad, ivBits: iv.length * 8, tagBits: 128 } });
    let open = true;
    const live = (): void => {
      if (!open) throw new Error('the token session is closed');
    };
    // The binding's calls are synchronous, so an Init/Final pair never interleaves with another request on the session.
    // The methods are async so that every failure is a rejected promise, never a synchronous throw.
    const token: KeyToken = {
      async generateAesKey(label) {
        live();
        const h = p11.C_GenerateKey(s, { mechanism: k('CKM_AES_KEY_GEN') }, [
          { type: k('CKA_CLASS'), value: k('CKO_SECRET_KEY') },
          { type: k('CKA_KEY_TYPE'), value: k('CKK_AES') },
          { type: k('CKA_VALUE_LEN'), value: 32 },
          { type: k('CKA_LABEL'), value: label },
          { type: k('CKA_TOKEN'), value: true },
          { type: k('CKA_PRIVATE'), value: true },
          { type: k('CKA_SENSITIVE'), value: true },
          { type: k('CKA_EXTRACTABLE'), value: false },
          { type: k('CKA_ENCRYPT'), value: true },
          { type: k('CKA_DECRYPT'), value: true },
          { type: k('CKA_WRAP'), value: false },
        ]);
        handles.set(label, h);
      },
      async encrypt(label, iv, aad, plaintext) {
        live();
        return withKey(label, (h) => {
          p11.C_EncryptInit(s, gcm(iv, aad), h);
          return Buffer.from(p11.C_Encrypt(s, Buffer.from(plaintext), Buffer.alloc(plaintext.length + 16)));
        });
      },
      async decrypt(label, iv, aad, data) {
        live();
        return withKey(label, (h) => {
          p11.C_DecryptInit(s, gcm(iv, aad), h);
          return Buffer.from(p11.C_Decrypt(s, data, Buffer.alloc(data.length)));
        });
      },
      async random(bytes) {
        live();
        return Buffer.from(p11.C_GenerateRandom(s, Buffer.alloc(bytes)));
      },
      async destroyKey(label) {
        live();
        try {
          withKey(label, (h) => p11.C_DestroyObject(s, h));
        } catch {
          // Already gone.
        }
        handles.delete(label);
      },
      async close() {
        if (!open) return;
        open = false;
        try {
          // Closing the token's last session also logs the user out (PKCS#11 §5.6).
          p11.C_CloseSession(s);
        } catch {
          // The module may already be gone (finalized by a crash of the device).
        } finally {
          releaseModule(modulePath, mod);
        }
      },
    };
    return token;
  };
}
