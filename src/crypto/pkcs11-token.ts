import { TokenError, type KeyToken, type OpenToken } from './token.js';

/**
 * KeyToken over a PKCS#11 module (SoftHSM2, a real HSM) through the npm
 * binding `pkcs11js`, which is loaded only when a custom key store connects
 * (it is a native addon; hanul runs without it). Keys are generated in the
 * token as sensitive, non-extractable CKK_AES objects and used with CKM_AES_GCM.
 */
interface P11 {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(present: boolean): Buffer[];
  C_GetTokenInfo(slot: Buffer): { label: string };
  C_OpenSession(slot: Buffer, flags: number): Buffer;
  C_CloseSession(session: Buffer): void;
  C_Login(session: Buffer, userType: number, pin: string): void;
  C_GenerateKey(session: Buffer, mech: { mechanism: number }, template: { type: number; value?: number | boolean | string | Buffer }[]): Buffer;
  C_FindObjectsInit(session: Buffer, template: { type: number; value?: number | boolean | string | Buffer }[]): void;
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

export function pkcs11Opener(modulePath: string): OpenToken {
  return async (tokenLabel, password) => {
    const lib = await loadPkcs11Binding();
    if (!lib) throw new TokenError('INTERNAL_ERROR', 'The PKCS#11 binding (npm package pkcs11js) is not installed.');
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
      throw new TokenError('INTERNAL_ERROR', `cannot load PKCS#11 module ${modulePath}: ${(e as Error).message}`);
    }
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === tokenLabel);
    if (!slot) {
      p11.C_Finalize();
      throw new TokenError('CLUSTER_NOT_FOUND', `no PKCS#11 token labelled ${tokenLabel}`);
    }
    const session = p11.C_OpenSession(slot, k('CKF_RW_SESSION') | k('CKF_SERIAL_SESSION'));
    try {
      p11.C_Login(session, k('CKU_USER'), password);
    } catch {
      p11.C_CloseSession(session);
      p11.C_Finalize();
      throw new TokenError('INVALID_CREDENTIALS', 'the token refused the key store password');
    }
    const find = (label: string): Buffer => {
      p11.C_FindObjectsInit(session, [{ type: k('CKA_CLASS'), value: k('CKO_SECRET_KEY') }, { type: k('CKA_LABEL'), value: label }]);
      try {
        const [h] = p11.C_FindObjects(session, 1);
        if (!h) throw new Error(`no key ${label} in the token`);
        return h;
      } finally {
        p11.C_FindObjectsFinal(session);
      }
    };
    const gcm = (iv: Buffer, aad: Buffer) => ({ mechanism: k('CKM_AES_GCM'), parameter: { type: k('CK_PARAMS_AES_GCM'), iv, aad, ivBits: iv.length * 8, tagBits: 128 } });
    // PKCS#11 sessions are single-threaded: calls are serialized (the binding's calls are synchronous anyway).
    const token: KeyToken = {
      generateAesKey(label) {
        p11.C_GenerateKey(session, { mechanism: k('CKM_AES_KEY_GEN') }, [
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
        ]);
        return Promise.resolve();
      },
      encrypt(label, iv, aad, plaintext) {
        p11.C_EncryptInit(session, gcm(iv, aad), find(label));
        return Promise.resolve(Buffer.from(p11.C_Encrypt(session, Buffer.from(plaintext), Buffer.alloc(plaintext.length + 16))));
      },
      decrypt(label, iv, aad, data) {
        p11.C_DecryptInit(session, gcm(iv, aad), find(label));
        return Promise.resolve(Buffer.from(p11.C_Decrypt(session, data, Buffer.alloc(data.length))));
      },
      random(bytes) {
        return Promise.resolve(Buffer.from(p11.C_GenerateRandom(session, Buffer.alloc(bytes))));
      },
      destroyKey(label) {
        try {
          p11.C_DestroyObject(session, find(label));
        } catch {
          // Already gone.
        }
        return Promise.resolve();
      },
      close() {
        try {
          p11.C_CloseSession(session);
        } finally {
          p11.C_Finalize();
        }
        return Promise.resolve();
      },
    };
    return token;
  };
}
