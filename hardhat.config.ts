import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

const require = createRequire(import.meta.url);
// The compiler is solc-js from the npm `solc` package (a devDependency): Hardhat then never downloads one.
// Hardhat does not resolve `path` against the project root, so it must be absolute.
const SOLCJS = require.resolve("solc/soljson.js");
const SOLC_VERSION = (require("solc/package.json") as { version: string }).version; // must match soljson.js

// Development account 0 of `cairn --dev` (the public "test test ... junk" mnemonic): never for real funds.
const DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: SOLC_VERSION,
    path: SOLCJS,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague" },
  },
  paths: {
    // Not under cairn's own `node --test 'test/**/*.test.ts'`: these files are Hardhat's (mocha and Solidity tests).
    tests: { mocha: "test/hardhat", solidity: "test/hardhat" },
  },
  // Ignition waits for 5 confirmations on a network it does not know to be automined; cairn seals blocks itself.
  ignition: { requiredConfirmations: 1 },
  networks: {
    // `npm start` (cairn --dev). CAIRN_URL / CAIRN_KEY point it elsewhere (the e2e tests use a free port).
    cairn: {
      type: "http",
      chainType: "l1",
      url: process.env.CAIRN_URL ?? "http://127.0.0.1:8545",
      chainId: 1337,
      accounts: [process.env.CAIRN_KEY ?? DEV_KEY],
    },
    // Any other cairn network: read from the environment only when used.
    cairnNetwork: {
      type: "http",
      chainType: "l1",
      url: configVariable("CAIRN_NETWORK_URL"),
      accounts: [configVariable("CAIRN_NETWORK_KEY")],
    },
  },
});
