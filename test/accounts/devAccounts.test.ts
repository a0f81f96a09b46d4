import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToHex } from '@noble/hashes/utils.js';
import { DevMnemonic, derivePrivateKey, devAccounts, mnemonicToSeed } from '../../src/accounts/devAccounts.ts';

// Expected values are the published Hardhat/Anvil default accounts for this mnemonic.
test('dev accounts 0, 1 and 9 of the standard mnemonic', () => {
  const accounts = devAccounts(10);
  assert.equal(accounts.length, 10);
  assert.deepEqual(accounts[0], {
    address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    path: "m/44'/60'/0'/0/0",
  });
  assert.deepEqual(accounts[1], {
    address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    privateKey: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
    path: "m/44'/60'/0'/0/1",
  });
  assert.equal(accounts[9].address, '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720');
});

test('derivePrivateKey follows a full path from the seed', () => {
  const seed = mnemonicToSeed(DevMnemonic);
  assert.equal(
    bytesToHex(derivePrivateKey(seed, "m/44'/60'/0'/0/1")),
    '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  );
});

// BIP-32 test vector 1 (seed 000102...0f), chain m/0H/1: private key of the last node.
test('BIP-32 test vector 1 mixes hardened and normal derivation', () => {
  const seed = Uint8Array.from({ length: 16 }, (_, i) => i);
  assert.equal(
    bytesToHex(derivePrivateKey(seed, "m/0'/1")),
    '3c6cb8d0f6a264c91ea8b5030fadaa8e538b020f0a387421a12de9319dc93368',
  );
});

test('malformed derivation paths are rejected', () => {
  const seed = mnemonicToSeed(DevMnemonic);
  assert.throws(() => derivePrivateKey(seed, "44'/60'"), /must start with "m"/);
  assert.throws(() => derivePrivateKey(seed, 'm/x'), /bad segment "x"/);
  assert.throws(() => derivePrivateKey(seed, 'm/2147483648'), /bad segment/);
});
