// The well-known development accounts (the same as Hardhat's and Anvil's), derived
// from a BIP-39 mnemonic along BIP-44 Ethereum paths with BIP-32.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { privateToAddress, toChecksumAddress } from '@ethereumjs/util';

export const DevMnemonic = 'test test test test test test test test test test test junk';
/** BIP-44 Ethereum external chain; account i lives at `${DevDerivationPath}/i`. */
export const DevDerivationPath = "m/44'/60'/0'/0";

export interface DevAccount {
  /** EIP-55 checksummed, 0x-prefixed. */
  address: string;
  /** 0x-prefixed 32-byte hex. */
  privateKey: string;
  path: string;
}

interface ExtendedKey {
  privateKey: Uint8Array;
  chainCode: Uint8Array;
}

const hardenedOffset = 0x80000000;
const curveOrder = secp256k1.Point.Fn.ORDER;

/** The first `count` accounts of `mnemonic` (default: the standard dev mnemonic). */
export function devAccounts(count: number, mnemonic: string = DevMnemonic): DevAccount[] {
  const parent = derivePath(masterKey(mnemonicToSeed(mnemonic)), DevDerivationPath);
  return Array.from({ length: count }, (_, index) => {
    const { privateKey } = deriveChild(parent, index);
    return {
      address: toChecksumAddress(`0x${bytesToHex(privateToAddress(privateKey))}`),
      privateKey: `0x${bytesToHex(privateKey)}`,
      path: `${DevDerivationPath}/${index}`,
    };
  });
}

/** BIP-39 seed. The mnemonic's words are not checked against the wordlist or checksum. */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  const normalize = (text: string) => utf8ToBytes(text.normalize('NFKD'));
  return pbkdf2(sha512, normalize(mnemonic), normalize(`mnemonic${passphrase}`), { c: 2048, dkLen: 64 });
}

/** The private key at a BIP-32 path such as "m/44'/60'/0'/0/0". */
export function derivePrivateKey(seed: Uint8Array, path: string): Uint8Array {
  return derivePath(masterKey(seed), path).privateKey;
}

function masterKey(seed: Uint8Array): ExtendedKey {
  return splitDigest(hmac(sha512, utf8ToBytes('Bitcoin seed'), seed), 0n);
}

function derivePath(root: ExtendedKey, path: string): ExtendedKey {
  const [head, ...segments] = path.split('/');
  if (head !== 'm') throw new Error(`invalid derivation path ${path}: must start with "m"`);
  return segments.reduce((key, segment) => {
    const match = /^(\d+)('?)$/.exec(segment);
    if (match === null || Number(match[1]) >= hardenedOffset) {
      throw new Error(`invalid derivation path ${path}: bad segment "${segment}"`);
    }
    const index = Number(match[1]);
    return deriveChild(key, match[2] === "'" ? index + hardenedOffset : index);
  }, root);
}

// BIP-32 CKDpriv: hardened children commit to the parent private key, normal ones to its public key.
function deriveChild(parent: ExtendedKey, index: number): ExtendedKey {
  const parentData =
    index >= hardenedOffset
      ? concatBytes(new Uint8Array([0]), parent.privateKey)
      : secp256k1.getPublicKey(parent.privateKey, true);
  const data = concatBytes(parentData, numberToBytesBE(index, 4));
  return splitDigest(hmac(sha512, parent.chainCode, data), bytesToNumberBE(parent.privateKey));
}

// Left half tweaks the parent key (zero for the master key), right half is the chain code.
// BIP-32 says to skip the index when the result is invalid; the odds are below 2^-127, so just fail.
function splitDigest(digest: Uint8Array, parentKey: bigint): ExtendedKey {
  const tweak = bytesToNumberBE(digest.subarray(0, 32));
  const key = (tweak + parentKey) % curveOrder;
  if (tweak >= curveOrder || key === 0n) throw new Error('BIP-32 derivation produced an invalid key');
  return { privateKey: numberToBytesBE(key, 32), chainCode: digest.slice(32) };
}
