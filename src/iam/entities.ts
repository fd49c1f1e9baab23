/**
 * IAM's stored records. One MetadataStore namespace per table; names are
 * case-insensitively unique in IAM, so rows are keyed by the lower-cased name
 * and keep the name as created. Index rows (`a/b`) make the listings a range
 * scan; IAM names never contain '/'.
 */
export const NS = {
  user: 'iam:user',
  group: 'iam:group',
  role: 'iam:role',
  policy: 'iam:policy',
  accessKey: 'iam:access-key',
  /** `<user>/<access key id>` */
  userKey: 'iam:user-key',
  /** `<group>/<user>` */
  member: 'iam:group-member',
  mfa: 'iam:mfa',
  /** STS temporary credentials by access key id (ASIA…). */
  session: 'iam:session',
} as const;

export interface Tag {
  Key: string;
  Value: string;
}

/** Policies held by a user, group or role. */
export interface PolicyHolder {
  /** Inline policies: name → document (plain JSON text). */
  inline: Record<string, string>;
  /** Attached managed policy ARNs, in attach order. */
  attached: string[];
}

export interface UserRecord extends PolicyHolder {
  name: string;
  path: string;
  id: string;
  createDate: Date;
  tags: Tag[];
  boundary?: string;
  /** Group names, as created. */
  groups: string[];
}

export interface GroupRecord extends PolicyHolder {
  name: string;
  path: string;
  id: string;
  createDate: Date;
}

export interface RoleRecord extends PolicyHolder {
  name: string;
  path: string;
  id: string;
  createDate: Date;
  trust: string;
  description?: string;
  maxSessionDuration: number;
  tags: Tag[];
  boundary?: string;
  lastUsed?: { date: Date; region: string };
}

export interface PolicyVersionRecord {
  id: string;
  document: string;
  createDate: Date;
}

export interface ManagedPolicyRecord {
  name: string;
  path: string;
  id: string;
  arn: string;
  description?: string;
  createDate: Date;
  updateDate: Date;
  defaultVersion: string;
  nextVersion: number;
  versions: PolicyVersionRecord[];
  attachmentCount: number;
  boundaryCount: number;
  tags: Tag[];
}

export interface AccessKeyRecord {
  id: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createDate: Date;
  /** SecretBox-sealed, associated data = the key id. */
  secret: Uint8Array;
  lastUsed?: { date: Date; service: string; region: string };
}

export interface MfaRecord {
  serial: string;
  name: string;
  path: string;
  /** Base32 seed, sealed; associated data = the serial. */
  seed: Uint8Array;
  createDate: Date;
  /** Set once enabled for a user. */
  userName?: string;
  /** Enabled for the account's root user (EnableMFADevice signed by root without UserName). */
  root?: true;
  enableDate?: Date;
  /** The last TOTP time step accepted: a code is never accepted twice. */
  lastStep?: number;
  tags: Tag[];
}

export interface SessionRecord {
  accessKeyId: string;
  /** Sealed; associated data = the access key id. */
  secret: Uint8Array;
  token: string;
  issuedAt: Date;
  expiresAt: Date;
  kind: 'role' | 'user' | 'root';
  /** For 'user' sessions (GetSessionToken). */
  userName?: string;
  roleName?: string;
  roleId?: string;
  sessionName?: string;
  mfa: boolean;
  /** Inline session policy text and managed session policy ARNs. */
  sessionPolicy?: string;
  sessionPolicyArns?: string[];
  sessionTags?: Tag[];
  /** Assumed by another role session (role chaining caps the duration at one hour). */
  chained?: boolean;
  sourceIdentity?: string;
}

export const lower = (s: string): string => s.toLowerCase();
