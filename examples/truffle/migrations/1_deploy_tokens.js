const CairnToken = artifacts.require("CairnToken");
const CairnCollectible = artifacts.require("CairnCollectible");

// The ERC-20 (1,000,000 CAIRN to the deployer) and the ERC-721 (owned by the deployer, token 1 minted to it).
module.exports = async function (deployer, _network, accounts) {
  await deployer.deploy(CairnToken, web3.utils.toWei("1000000", "ether"));
  await deployer.deploy(CairnCollectible, accounts[0]);
  const collectible = await CairnCollectible.deployed();
  await collectible.mint(accounts[0]);
};
