// Truffle 5 (deprecated but still in use) against a cairn chain, offline: solc comes from the npm `solc` package.
const HDWalletProvider = require("@truffle/hdwallet-provider");

// `npm start` at the project root (cairn --dev); CAIRN_URL / CAIRN_KEY point elsewhere.
const CAIRN_URL = process.env.CAIRN_URL || "http://127.0.0.1:8545";
// Development account 0 of `cairn --dev` (the public "test test ... junk" mnemonic): never for real funds.
const CAIRN_KEY = process.env.CAIRN_KEY || "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

module.exports = {
  networks: {
    cairn: {
      // Signs locally and sends eth_sendRawTransaction: cairn holds no unlocked keys.
      provider: () => new HDWalletProvider({ privateKeys: [CAIRN_KEY], providerOrUrl: CAIRN_URL, pollingInterval: 1000 }),
      network_id: "*",
    },
  },
  compilers: {
    solc: {
      // A path, not a version: Truffle then loads this solc-js and never downloads a compiler.
      version: require.resolve("solc"),
      settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague" },
    },
  },
  mocha: { timeout: 60000 },
};
