import type { Credentials } from '@aws-sdk/client-sts';
import { NS, type SessionRecord } from '../../iam/entities.js';
import { newAccessKeyId, newSecretAccessKey, newSessionToken } from '../../iam/ids.js';
import type { IamRuntime } from '../../iam/runtime.js';

/**
 * Temporary credentials are stored (by ASIA… key id) with their secret
 * sealed: the SigV4 layer gets the record from the credential lookup and
 * checks the request's x-amz-security-token against it and its expiry.
 */
export async function issueSession(rt: IamRuntime, fields: Omit<SessionRecord, 'accessKeyId' | 'secret' | 'token'>): Promise<Credentials> {
  const accessKeyId = newAccessKeyId('ASIA');
  const secret = newSecretAccessKey();
  const token = newSessionToken();
  const rec: SessionRecord = { ...fields, accessKeyId, secret: rt.box.seal(secret, accessKeyId), token };
  // Not rt.write: a new session changes nobody else's permissions, so the caches stay.
  await rt.store.write((tx) => tx.put(NS.session, accessKeyId, rec));
  return { AccessKeyId: accessKeyId, SecretAccessKey: secret, SessionToken: token, Expiration: fields.expiresAt };
}

/** Expired sessions are kept a day (so clients hear ExpiredToken, not an unknown key), then dropped. */
export const SESSION_KEEP_AFTER_EXPIRY_MS = 24 * 3600 * 1000;

export async function sweepSessions(rt: IamRuntime): Promise<number> {
  const cutoff = rt.clock.nowMs() - SESSION_KEEP_AFTER_EXPIRY_MS;
  const gone = await rt.store.write(async (tx) => {
    const out: string[] = [];
    for (const { key, value } of await tx.scan<SessionRecord>(NS.session)) {
      if (value.expiresAt.getTime() < cutoff) {
        await tx.delete(NS.session, key);
        out.push(key);
      }
    }
    return out;
  });
  for (const id of gone) rt.forget(id);
  return gone.length;
}
