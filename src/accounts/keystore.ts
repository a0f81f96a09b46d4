// Encrypted key files in the Web3 Secret Storage v3 format, compatible with
// geth's accounts/keystore: same JSON, same file names, same error messages.

import { createCipheriv, pbkdf2, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { isValidPrivate, privateToAddress, toChecksumAddress } from '@ethereumjs/util';

/** geth's StandardScryptN/P: 256 MB of memory and about a second of CPU per key. */
export const StandardScryptN = 1 << 18;
export const StandardScryptP = 1;
/** geth's LightScryptN/P (`--lightkdf`): 4 MB and a few tens of milliseconds; for tests and dev chains. */
export const LightScryptN = 1 << 12;
export const LightScryptP = 6;
/** Iteration count written for pbkdf2 key files, as in the Web3 Secret Storage definition. */
export const Pbkdf2Iterations = 262144;

const scryptR = 8;
const derivedKeyLength = 32;
const privateKeyLength = 32;

/** geth's error texts, so callers and users see the same messages as with geth. */
export const KeystoreErrors = {
  decrypt: 'could not decrypt key with given password',
  noMatch: 'no key for given address or file',
  accountExists: 'account already exists',
} as const;

export interface ScryptParams {
  dklen: number;
  n: number;
  p: number;
  r: number;
  salt: string;
}

export interface Pbkdf2Params {
  c: number;
  dklen: number;
  prf: 'hmac-sha256';
  salt: string;
}

export type KeystoreKdf = { kdf: 'scrypt'; kdfparams: ScryptParams } | { kdf: 'pbkdf2'; kdfparams: Pbkdf2Params };

export type KeystoreCrypto = {
  cipher: 'aes-128-ctr';
  ciphertext: string;
  cipherparams: { iv: string };
  mac: string;
} & KeystoreKdf;

/** A v3 key file; hex fields are lowercase without 0x, as geth writes them. */
export interface KeystoreV3 {
  address: string;
  crypto: KeystoreCrypto;
  id: string;
  version: 3;
}

export interface EncryptOptions {
  scryptN?: number;
  scryptP?: number;
  kdf?: 'scrypt' | 'pbkdf2';
}

const pbkdf2Sha256 = promisify(pbkdf2);

export async function encryptKey(privateKey: Uint8Array, password: string, opts: EncryptOptions = {}): Promise<KeystoreV3> {
  assertValidPrivateKey(privateKey);
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  let kdfFields: KeystoreKdf;
  let derivedKey: Uint8Array;
  if (opts.kdf === 'pbkdf2') {
    derivedKey = await pbkdf2Sha256(utf8ToBytes(password), salt, Pbkdf2Iterations, derivedKeyLength, 'sha256');
    kdfFields = {
      kdf: 'pbkdf2',
      kdfparams: { c: Pbkdf2Iterations, dklen: derivedKeyLength, prf: 'hmac-sha256', salt: bytesToHex(salt) },
    };
  } else {
    const n = opts.scryptN ?? StandardScryptN;
    const p = opts.scryptP ?? StandardScryptP;
    derivedKey = await scryptAsync(utf8ToBytes(password), salt, { N: n, r: scryptR, p, dkLen: derivedKeyLength });
    kdfFields = { kdf: 'scrypt', kdfparams: { dklen: derivedKeyLength, n, p, r: scryptR, salt: bytesToHex(salt) } };
  }
  const ciphertext = aes128Ctr(derivedKey, iv, privateKey);
  return {
    address: bytesToHex(privateToAddress(privateKey)),
    crypto: {
      cipher: 'aes-128-ctr',
      ciphertext: bytesToHex(ciphertext),
      cipherparams: { iv: bytesToHex(iv) },
      ...kdfFields,
      mac: bytesToHex(keystoreMac(derivedKey, ciphertext)),
    },
    id: randomUUID(),
    version: 3,
  };
}

/**
 * Decrypts a v3 key file given as JSON text, bytes or an already parsed object.
 * Returns the 32-byte private key.
 */
export async function decryptKey(json: unknown, password: string): Promise<Uint8Array> {
  const keyFile = parseKeyFile(json);
  const version = field(keyFile, 'version');
  if (version !== 3) throw new Error(`version not supported: ${JSON.stringify(version) ?? 'missing'}`);

  const crypto = objectField(keyFile, 'crypto', '');
  const cipher = stringField(crypto, 'cipher', 'crypto.');
  if (cipher !== 'aes-128-ctr') throw new Error(`cipher not supported: ${cipher}`);
  const ciphertext = hexField(crypto, 'ciphertext', 'crypto.');
  const iv = hexField(objectField(crypto, 'cipherparams', 'crypto.'), 'iv', 'crypto.cipherparams.', 16);
  const mac = hexField(crypto, 'mac', 'crypto.', 32);

  const derivedKey = await deriveKey(crypto, utf8ToBytes(password));
  if (!timingSafeEqual(keystoreMac(derivedKey, ciphertext), mac)) throw new Error(KeystoreErrors.decrypt);

  const plaintext = aes128Ctr(derivedKey, iv, ciphertext);
  if (plaintext.length > privateKeyLength) {
    throw new Error(`invalid keystore: crypto.ciphertext holds ${plaintext.length} bytes, a private key has 32`);
  }
  // Some old encoders dropped leading zero bytes of the key; geth reads them as a big-endian number.
  const privateKey = new Uint8Array(privateKeyLength);
  privateKey.set(plaintext, privateKeyLength - plaintext.length);
  return privateKey;
}

/** geth's key file name: `UTC--<created at, ISO 8601 with '-' for ':'>--<address hex>`. */
export function keyFileName(address: string | Uint8Array, createdAt: Date = new Date()): string {
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  // geth prints nanoseconds; a Date only has milliseconds.
  const timestamp =
    `${pad(createdAt.getUTCFullYear(), 4)}-${pad(createdAt.getUTCMonth() + 1, 2)}-${pad(createdAt.getUTCDate(), 2)}` +
    `T${pad(createdAt.getUTCHours(), 2)}-${pad(createdAt.getUTCMinutes(), 2)}-${pad(createdAt.getUTCSeconds(), 2)}` +
    `.${pad(createdAt.getUTCMilliseconds() * 1_000_000, 9)}Z`;
  return `UTC--${timestamp}--${addressHex(address)}`;
}

/**
 * Reads a `--password` file as geth does: split on '\n', trailing '\r's removed from each line.
 * Like geth, a final newline yields a last empty line.
 */
export async function readPasswordFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').map((line) => line.replace(/\r+$/, ''));
}

/**
 * The password for the index-th account unlocked from the command line: line `index`,
 * or the last line when there are fewer lines. Undefined when there are no passwords (geth then prompts).
 */
export function passwordForAccount(passwords: readonly string[], index: number): string | undefined {
  return passwords[Math.min(index, passwords.length - 1)];
}

export interface KeystoreAccount {
  /** EIP-55 checksummed, 0x-prefixed. */
  address: string;
  path: string;
}

export interface KeystoreOptions {
  scryptN?: number;
  scryptP?: number;
}

/** The key files of one directory (DATADIR/keystore), read fresh on every call. */
export class Keystore {
  readonly dir: string;
  readonly #scryptN: number;
  readonly #scryptP: number;

  constructor(dir: string, options: KeystoreOptions = {}) {
    this.dir = dir;
    this.#scryptN = options.scryptN ?? StandardScryptN;
    this.#scryptP = options.scryptP ?? StandardScryptP;
  }

  /** Accounts sorted by file path, as geth's account list; unreadable or foreign files are skipped. */
  async list(): Promise<KeystoreAccount[]> {
    let entries;
    try {
      entries = await readdir(this.dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const accounts: KeystoreAccount[] = [];
    for (const entry of entries) {
      // Like geth: skip hidden files, editor backups, directories and symlinks.
      if (entry.name.startsWith('.') || entry.name.endsWith('~') || !entry.isFile()) continue;
      const path = join(this.dir, entry.name);
      const address = await readKeyFileAddress(path);
      if (address !== undefined) accounts.push({ address, path });
    }
    return accounts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async newAccount(password: string): Promise<KeystoreAccount> {
    let privateKey: Uint8Array;
    do {
      privateKey = randomBytes(privateKeyLength);
    } while (!isValidPrivate(privateKey));
    return this.#store(privateKey, password);
  }

  async importKey(privateKey: Uint8Array, password: string): Promise<KeystoreAccount> {
    assertValidPrivateKey(privateKey);
    const address = checksumAddressOf(privateKey);
    const existing = (await this.list()).find((account) => account.address === address);
    if (existing !== undefined) throw new Error(`${KeystoreErrors.accountExists}: ${address} (${existing.path})`);
    return this.#store(privateKey, password);
  }

  /** Decrypts the key of `address` (any case, with or without 0x). */
  async unlock(address: string, password: string): Promise<Uint8Array> {
    const wanted = toChecksumAddress(`0x${addressHex(address)}`);
    const matches = (await this.list()).filter((account) => account.address === wanted);
    if (matches.length === 0) throw new Error(KeystoreErrors.noMatch);
    if (matches.length > 1) {
      throw new Error(`multiple keys match address (${matches.map((account) => account.path).join(', ')})`);
    }
    return readKeyFile(matches[0].path, wanted, password);
  }

  async #store(privateKey: Uint8Array, password: string): Promise<KeystoreAccount> {
    const keyFile = await encryptKey(privateKey, password, { scryptN: this.#scryptN, scryptP: this.#scryptP });
    const address = toChecksumAddress(`0x${keyFile.address}`);
    const path = join(this.dir, keyFileName(keyFile.address));
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Write to a hidden temporary file, check it decrypts, then move it into place (as geth does),
    // so a bad write never replaces or shadows a good key file.
    const temporaryPath = join(this.dir, `.${basename(path)}.tmp${bytesToHex(randomBytes(4))}`);
    const handle = await open(temporaryPath, 'wx', 0o600);
    try {
      try {
        await handle.writeFile(JSON.stringify(keyFile));
      } finally {
        await handle.close();
      }
      await readKeyFile(temporaryPath, address, password);
      await rename(temporaryPath, path);
    } catch (error) {
      await rm(temporaryPath, { force: true });
      throw new Error(`could not store key file ${path}: ${(error as Error).message}`, { cause: error });
    }
    return { address, path };
  }
}

async function readKeyFile(path: string, expectedAddress: string, password: string): Promise<Uint8Array> {
  const privateKey = await decryptKey(await readFile(path, 'utf8'), password);
  const actual = checksumAddressOf(privateKey);
  // Guards against a file whose address field was swapped for another account's.
  if (actual !== expectedAddress) {
    throw new Error(`key content mismatch: have account ${addressHex(actual)}, want ${addressHex(expectedAddress)}`);
  }
  return privateKey;
}

async function readKeyFileAddress(path: string): Promise<string | undefined> {
  let keyFile: unknown;
  try {
    keyFile = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(keyFile)) return undefined;
  const address = field(keyFile, 'address');
  if (typeof address !== 'string' || !/^(0x)?[0-9a-fA-F]{40}$/.test(address) || /^(0x)?0{40}$/.test(address)) {
    return undefined;
  }
  return toChecksumAddress(`0x${addressHex(address)}`);
}

async function deriveKey(crypto: Record<string, unknown>, password: Uint8Array): Promise<Uint8Array> {
  const kdf = stringField(crypto, 'kdf', 'crypto.');
  const params = objectField(crypto, 'kdfparams', 'crypto.');
  const prefix = 'crypto.kdfparams.';
  const salt = hexField(params, 'salt', prefix);
  const dkLen = integerField(params, 'dklen', prefix);
  // The MAC covers bytes 16..32 of the derived key, so shorter keys cannot be checked.
  if (dkLen < derivedKeyLength) throw new Error(`invalid keystore: ${prefix}dklen must be at least 32, got ${dkLen}`);
  if (kdf === 'scrypt') {
    const options = {
      N: integerField(params, 'n', prefix),
      r: integerField(params, 'r', prefix),
      p: integerField(params, 'p', prefix),
      dkLen,
    };
    try {
      return await scryptAsync(password, salt, options);
    } catch (error) {
      throw new Error(`invalid keystore: ${prefix}{n,r,p} rejected by scrypt: ${(error as Error).message}`);
    }
  }
  if (kdf === 'pbkdf2') {
    const prf = stringField(params, 'prf', prefix);
    if (prf !== 'hmac-sha256') throw new Error(`unsupported PBKDF2 PRF: ${prf}`);
    return pbkdf2Sha256(password, salt, integerField(params, 'c', prefix), dkLen, 'sha256');
  }
  throw new Error(`unsupported KDF: ${kdf}`);
}

function assertValidPrivateKey(privateKey: Uint8Array): void {
  if (privateKey.length !== privateKeyLength || !isValidPrivate(privateKey)) {
    throw new Error('invalid private key: expected 32 bytes in the secp256k1 scalar range');
  }
}

function checksumAddressOf(privateKey: Uint8Array): string {
  return toChecksumAddress(`0x${bytesToHex(privateToAddress(privateKey))}`);
}

function keystoreMac(derivedKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return keccak_256(concatBytes(derivedKey.subarray(16, 32), ciphertext));
}

// CTR mode is its own inverse, so one function both encrypts and decrypts.
function aes128Ctr(derivedKey: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ctr', derivedKey.subarray(0, 16), iv);
  return concatBytes(cipher.update(data), cipher.final());
}

/** Lowercase address hex without 0x; throws on anything but 20 bytes. */
function addressHex(address: string | Uint8Array): string {
  if (typeof address !== 'string') {
    if (address.length !== 20) throw new Error(`invalid address: expected 20 bytes, got ${address.length}`);
    return bytesToHex(address);
  }
  if (!/^(0x)?[0-9a-fA-F]{40}$/.test(address)) throw new Error(`invalid address: ${address}`);
  return address.replace(/^0x/, '').toLowerCase();
}

function parseKeyFile(json: unknown): Record<string, unknown> {
  let parsed = json;
  if (json instanceof Uint8Array) parsed = new TextDecoder().decode(json);
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch (error) {
      throw new Error(`invalid keystore: not valid JSON (${(error as Error).message})`);
    }
  }
  if (!isObject(parsed)) throw new Error('invalid keystore: expected a JSON object');
  return parsed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Field names match case-insensitively, as Go's encoding/json does; this is why geth
// accepts files with "Crypto" (written by some older wallets).
function field(object: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : object[key];
}

function objectField(object: Record<string, unknown>, name: string, prefix: string): Record<string, unknown> {
  const value = field(object, name);
  if (!isObject(value)) throw new Error(`invalid keystore: ${prefix}${name} must be an object`);
  return value;
}

function stringField(object: Record<string, unknown>, name: string, prefix: string): string {
  const value = field(object, name);
  if (typeof value !== 'string') throw new Error(`invalid keystore: ${prefix}${name} must be a string`);
  return value;
}

function integerField(object: Record<string, unknown>, name: string, prefix: string): number {
  const value = field(object, name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`invalid keystore: ${prefix}${name} must be a positive integer`);
  }
  return value;
}

function hexField(object: Record<string, unknown>, name: string, prefix: string, length?: number): Uint8Array {
  const value = field(object, name);
  if (typeof value !== 'string' || !/^(0x)?([0-9a-fA-F]{2})+$/.test(value)) {
    throw new Error(`invalid keystore: ${prefix}${name} must be a non-empty hex string`);
  }
  const bytes = hexToBytes(value.replace(/^0x/, ''));
  if (length !== undefined && bytes.length !== length) {
    throw new Error(`invalid keystore: ${prefix}${name} must be ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}
