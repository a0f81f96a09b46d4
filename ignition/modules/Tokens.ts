import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** The ERC-20 (1,000,000 CAIRN to the deployer) and the ERC-721 (owned by the deployer, one token minted to it). */
export default buildModule("Tokens", (m) => {
  const deployer = m.getAccount(0);
  const token = m.contract("CairnToken", [m.getParameter("supply", 1_000_000n * 10n ** 18n)]);
  const collectible = m.contract("CairnCollectible", [deployer]);
  m.call(collectible, "mint", [deployer]);
  return { token, collectible };
});
