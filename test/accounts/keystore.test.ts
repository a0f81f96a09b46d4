import assert from 'node:assert/strict';
import { createDecipheriv, scryptSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { privateToAddress, toChecksumAddress } from '@ethereumjs/util';
import {
  Keystore,
  KeystoreErrors,
  LightScryptN,
  LightScryptP,
  decryptKey,
  encryptKey,
  keyFileName,
  passwordForAccount,
  readPasswordFile,
} from '../../src/accounts/keystore.ts';

// Web3 Secret Storage Definition test vectors (also go-ethereum accounts/keystore/testdata/v3_test_vector.json).
const wikiPrivateKey = '7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d';
const wikiPbkdf2 = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: {
      c: 262144,
      dklen: 32,
      prf: 'hmac-sha256',
      salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd',
    },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};
const wikiScrypt = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: {
      dklen: 32,
      n: 262144,
      r: 1,
      p: 8,
      salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19',
    },
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};
// Written by geth (go-ethereum accounts/keystore/testdata/keystore/{aaa,zzz}), password "foobar".
const gethAaa =
  '{"address":"f466859ead1932d743d622cb74fc058882e8648a","crypto":{"cipher":"aes-128-ctr","ciphertext":"cb664472deacb41a2e995fa7f96fe29ce744471deb8d146a0e43c7898c9ddd4d","cipherparams":{"iv":"dfd9ee70812add5f4b8f89d0811c9158"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":8,"p":16,"r":8,"salt":"0d6769bf016d45c479213990d6a08d938469c4adad8a02ce507b4a4e7b7739f1"},"mac":"bac9af994b15a45dd39669fc66f9aa8a3b9dd8c22cb16e4d8d7ea089d0f1a1a9"},"id":"472e8b3d-afb6-45b5-8111-72c89895099a","version":3}';
const gethZzz =
  '{"address":"289d485d9771714cce91d3393d764e1311907acc","crypto":{"cipher":"aes-128-ctr","ciphertext":"faf32ca89d286b107f5e6d842802e05263c49b78d46eac74e6109e9a963378ab","cipherparams":{"iv":"558833eec4a665a8c55608d7d503407d"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":8,"p":16,"r":8,"salt":"d571fff447ffb24314f9513f5160246f09997b857ac71348b73e785aab40dc04"},"mac":"21edb85ff7d0dab1767b9bf498f2c3cb7be7609490756bd32300bb213b59effe"},"id":"3279afcf-55ba-43ff-8997-02dcc46a6525","version":3}';
// From go-ethereum's v3_test_vector.json: keys whose leading zero bytes were dropped by old encoders.
const gethShortKey = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: 'e0c41130a323adc1446fc82f724bca2f' },
    ciphertext: '9517cd5bdbe69076f9bf5057248c6c050141e970efa36ce53692d5d59a3984',
    kdf: 'scrypt',
    kdfparams: { dklen: 32, n: 2, r: 8, p: 1, salt: '711f816911c92d649fb4c84b047915679933555030b3552c1212609b38208c63' },
    mac: 'd5e116151c6aa71470e67a7d42c9620c75c4d23229847dcc127794f0732b0db5',
  },
  id: 'fecfc4ce-e956-48fd-953b-30f8b52ed66c',
  version: 3,
};

const devKey = hexToBytes('ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const devAddress = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const light = { scryptN: LightScryptN, scryptP: LightScryptP };

function withCrypto(patch: Record<string, unknown>): unknown {
  return { ...wikiPbkdf2, crypto: { ...wikiPbkdf2.crypto, ...patch } };
}

function addressOf(privateKey: Uint8Array): string {
  return bytesToHex(privateToAddress(privateKey));
}

describe('encryptKey / decryptKey', () => {
  test('round trip with light scrypt writes geth-shaped JSON', async () => {
    const keyFile = await encryptKey(devKey, 'hunter2', light);
    assert.equal(keyFile.address, 'f39fd6e51aad88f6f4ce6ab8827279cfffb92266');
    assert.equal(keyFile.version, 3);
    assert.match(keyFile.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(Object.keys(keyFile), ['address', 'crypto', 'id', 'version']);
    assert.deepEqual(Object.keys(keyFile.crypto), ['cipher', 'ciphertext', 'cipherparams', 'kdf', 'kdfparams', 'mac']);
    assert.equal(keyFile.crypto.cipher, 'aes-128-ctr');
    assert.equal(keyFile.crypto.kdf, 'scrypt');
    assert.deepEqual({ ...keyFile.crypto.kdfparams, salt: undefined }, { dklen: 32, n: 4096, p: 6, r: 8, salt: undefined });
    assert.match(keyFile.crypto.kdfparams.salt, /^[0-9a-f]{64}$/);
    assert.match(keyFile.crypto.cipherparams.iv, /^[0-9a-f]{32}$/);
    assert.match(keyFile.crypto.mac, /^[0-9a-f]{64}$/);

    const decrypted = await decryptKey(JSON.stringify(keyFile), 'hunter2');
    assert.equal(bytesToHex(decrypted), bytesToHex(devKey));
  });

  test('an encrypted key checks out against OpenSSL scrypt and AES', async () => {
    const keyFile = await encryptKey(devKey, 'hunter2', light);
    assert.equal(keyFile.crypto.kdf, 'scrypt');
    const { n, r, p, dklen, salt } = keyFile.crypto.kdfparams;
    const derivedKey = scryptSync('hunter2', hexToBytes(salt), dklen, { N: n, r, p });
    const ciphertext = hexToBytes(keyFile.crypto.ciphertext);
    assert.equal(bytesToHex(keccak_256(concatBytes(derivedKey.subarray(16, 32), ciphertext))), keyFile.crypto.mac);
    const decipher = createDecipheriv('aes-128-ctr', derivedKey.subarray(0, 16), hexToBytes(keyFile.crypto.cipherparams.iv));
    assert.equal(bytesToHex(concatBytes(decipher.update(ciphertext), decipher.final())), bytesToHex(devKey));
  });

  test('round trip with pbkdf2', async () => {
    const keyFile = await encryptKey(devKey, 'hunter2', { kdf: 'pbkdf2' });
    assert.deepEqual({ ...keyFile.crypto.kdfparams, salt: undefined }, {
      c: 262144,
      dklen: 32,
      prf: 'hmac-sha256',
      salt: undefined,
    });
    assert.equal(bytesToHex(await decryptKey(keyFile, 'hunter2')), bytesToHex(devKey));
  });

  test('Web3 Secret Storage pbkdf2 vector', async () => {
    assert.equal(bytesToHex(await decryptKey(wikiPbkdf2, 'testpassword')), wikiPrivateKey);
  });

  test('Web3 Secret Storage scrypt vector (n=262144, about a second)', async () => {
    assert.equal(bytesToHex(await decryptKey(JSON.stringify(wikiScrypt), 'testpassword')), wikiPrivateKey);
  });

  test('geth-written scrypt key files decrypt to the key of their address', async () => {
    for (const text of [gethAaa, gethZzz]) {
      const privateKey = await decryptKey(new TextEncoder().encode(text), 'foobar');
      assert.equal(addressOf(privateKey), JSON.parse(text).address);
    }
  });

  test('a 31-byte key is left-padded to 32 bytes', async () => {
    const privateKey = await decryptKey(gethShortKey, 'foo');
    assert.equal(bytesToHex(privateKey), '00fa7b3db73dc7dfdf8c5fbdb796d741e4488628c41fc4febd9160a866ba0f35');
  });

  test('"Crypto" capitalised is accepted, as geth does', async () => {
    const { crypto, ...rest } = wikiPbkdf2;
    assert.equal(bytesToHex(await decryptKey({ ...rest, Crypto: crypto }, 'testpassword')), wikiPrivateKey);
  });

  test('wrong password gives geth\'s error', async () => {
    await assert.rejects(decryptKey(wikiPbkdf2, 'wrong'), { message: KeystoreErrors.decrypt });
    assert.equal(KeystoreErrors.decrypt, 'could not decrypt key with given password');
  });

  test('malformed files are rejected with the offending field named', async () => {
    const cases: [unknown, RegExp][] = [
      ['{"crypto": ', /not valid JSON/],
      ['[]', /expected a JSON object/],
      [{ ...wikiPbkdf2, version: 2 }, /version not supported: 2/],
      [{ ...wikiPbkdf2, version: undefined }, /version not supported: missing/],
      [{ ...wikiPbkdf2, crypto: undefined }, /crypto must be an object/],
      [withCrypto({ cipher: 'aes-128-cbc' }), /cipher not supported: aes-128-cbc/],
      [withCrypto({ ciphertext: 'xyz' }), /crypto\.ciphertext must be a non-empty hex string/],
      [withCrypto({ cipherparams: { iv: '00' } }), /crypto\.cipherparams\.iv must be 16 bytes, got 1/],
      [withCrypto({ mac: undefined }), /crypto\.mac must be a non-empty hex string/],
      [withCrypto({ kdf: 'argon2' }), /unsupported KDF: argon2/],
      [withCrypto({ kdfparams: { ...wikiPbkdf2.crypto.kdfparams, prf: 'hmac-sha1' } }), /unsupported PBKDF2 PRF: hmac-sha1/],
      [withCrypto({ kdfparams: { ...wikiPbkdf2.crypto.kdfparams, c: '262144' } }), /crypto\.kdfparams\.c must be a positive integer/],
      [withCrypto({ kdfparams: { ...wikiPbkdf2.crypto.kdfparams, dklen: 16 } }), /crypto\.kdfparams\.dklen must be at least 32/],
      [
        { ...wikiScrypt, crypto: { ...wikiScrypt.crypto, kdfparams: { ...wikiScrypt.crypto.kdfparams, n: 3 } } },
        /crypto\.kdfparams\.\{n,r,p\} rejected by scrypt/,
      ],
    ];
    for (const [input, message] of cases) {
      await assert.rejects(decryptKey(input, 'testpassword'), message);
    }
  });

  test('invalid private keys are refused', async () => {
    await assert.rejects(encryptKey(new Uint8Array(32), 'x', light), /invalid private key/);
    await assert.rejects(encryptKey(new Uint8Array(31).fill(1), 'x', light), /invalid private key/);
  });
});

test('keyFileName follows geth', () => {
  const createdAt = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  assert.equal(
    keyFileName(devAddress, createdAt),
    'UTC--2024-01-02T03-04-05.678000000Z--f39fd6e51aad88f6f4ce6ab8827279cfffb92266',
  );
  assert.equal(keyFileName(hexToBytes('f39fd6e51aad88f6f4ce6ab8827279cfffb92266'), createdAt), keyFileName(devAddress, createdAt));
  assert.throws(() => keyFileName('0x1234', createdAt), /invalid address/);
});

describe('Keystore over a directory', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-keystore-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a missing directory lists no accounts', async () => {
    assert.deepEqual(await new Keystore(join(root, 'absent')).list(), []);
  });

  test('newAccount creates a private directory and file named like geth', async () => {
    const dir = join(root, 'fresh', 'keystore');
    const keystore = new Keystore(dir, light);
    const account = await keystore.newAccount('pw');
    assert.match(account.address, /^0x[0-9a-fA-F]{40}$/);
    const fileName = account.path.slice(dir.length + 1);
    assert.match(fileName, /^UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{9}Z--[0-9a-f]{40}$/);
    assert.ok(fileName.endsWith(account.address.slice(2).toLowerCase()));
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(account.path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), [fileName], 'no temporary file left behind');
    assert.deepEqual(await keystore.list(), [account]);
    const privateKey = await keystore.unlock(account.address.toLowerCase(), 'pw');
    assert.equal(`0x${addressOf(privateKey)}`, account.address.toLowerCase());
  });

  test('importKey, duplicate refusal and unlock', async () => {
    const keystore = new Keystore(join(root, 'import'), light);
    const account = await keystore.importKey(devKey, 'secret');
    assert.equal(account.address, devAddress);
    await assert.rejects(keystore.importKey(devKey, 'other'), (error: Error) => {
      assert.match(error.message, /^account already exists: 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266/);
      assert.ok(error.message.includes(account.path));
      return true;
    });
    assert.equal(bytesToHex(await keystore.unlock(devAddress, 'secret')), bytesToHex(devKey));
    await assert.rejects(keystore.unlock(devAddress, 'wrong'), { message: KeystoreErrors.decrypt });
    await assert.rejects(keystore.unlock('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 'secret'), {
      message: 'no key for given address or file',
    });
  });

  test('listing skips foreign files and sorts by file name; geth files unlock', async () => {
    const dir = join(root, 'mixed');
    await mkdir(join(dir, 'subdir'), { recursive: true });
    await writeFile(join(dir, 'zzz'), gethZzz);
    await writeFile(join(dir, 'aaa'), gethAaa);
    await writeFile(join(dir, '.hiddenfile'), gethAaa);
    await writeFile(join(dir, 'swapfile~'), gethAaa);
    await writeFile(join(dir, 'subdir', 'aaa'), gethAaa);
    await writeFile(join(dir, 'README'), 'password is foobar\n');
    await writeFile(join(dir, 'garbage'), new Uint8Array([0xff, 0x00, 0x7b]));
    await writeFile(join(dir, 'empty'), '');
    await writeFile(join(dir, 'no-address'), JSON.stringify({ ...JSON.parse(gethAaa), address: undefined }));
    await writeFile(join(dir, 'zero-address'), JSON.stringify({ ...JSON.parse(gethAaa), address: '0'.repeat(40) }));

    const keystore = new Keystore(dir, light);
    const imported = await keystore.importKey(devKey, 'secret');
    assert.deepEqual(await keystore.list(), [
      imported,
      { address: toChecksumAddress('0xf466859ead1932d743d622cb74fc058882e8648a'), path: join(dir, 'aaa') },
      { address: toChecksumAddress('0x289d485d9771714cce91d3393d764e1311907acc'), path: join(dir, 'zzz') },
    ]);
    const aaaKey = await keystore.unlock('0xf466859ead1932d743d622cb74fc058882e8648a', 'foobar');
    assert.equal(addressOf(aaaKey), 'f466859ead1932d743d622cb74fc058882e8648a');
  });

  test('a file whose address field names another account is refused on unlock', async () => {
    const dir = join(root, 'swapped');
    await mkdir(dir);
    await writeFile(join(dir, 'swapped'), JSON.stringify({ ...JSON.parse(gethAaa), address: JSON.parse(gethZzz).address }));
    await assert.rejects(new Keystore(dir).unlock('0x289d485d9771714cce91d3393d764e1311907acc', 'foobar'), {
      message:
        'key content mismatch: have account f466859ead1932d743d622cb74fc058882e8648a, want 289d485d9771714cce91d3393d764e1311907acc',
    });
  });

  test('two files for one address are ambiguous', async () => {
    const dir = join(root, 'ambiguous');
    await mkdir(dir);
    await writeFile(join(dir, 'one'), gethAaa);
    await writeFile(join(dir, 'two'), gethAaa);
    await assert.rejects(
      new Keystore(dir).unlock('0xf466859ead1932d743d622cb74fc058882e8648a', 'foobar'),
      /^Error: multiple keys match address \(.*one, .*two\)$/,
    );
  });
});

describe('password files', () => {
  test('lines split as geth does, DOS endings stripped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-password-'));
    try {
      const path = join(dir, 'password.txt');
      await writeFile(path, 'first\r\nsecond\n third \n');
      const passwords = await readPasswordFile(path);
      assert.deepEqual(passwords, ['first', 'second', ' third ', '']);
      await writeFile(path, 'only');
      assert.deepEqual(await readPasswordFile(path), ['only']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('passwordForAccount falls back to the last line', () => {
    assert.equal(passwordForAccount(['a', 'b'], 0), 'a');
    assert.equal(passwordForAccount(['a', 'b'], 1), 'b');
    assert.equal(passwordForAccount(['a', 'b'], 5), 'b');
    assert.equal(passwordForAccount([], 0), undefined);
  });
});
