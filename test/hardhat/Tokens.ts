import { expect } from "chai";
import { network } from "hardhat";

// `--network cairn` runs these against a cairn node; without it, against Hardhat's in-process chain.
const { ethers } = await network.getOrCreate();

describe("CairnToken (ERC-20)", () => {
  it("mints the supply to the deployer and transfers", async () => {
    const [deployer] = await ethers.getSigners();
    const receiver = ethers.Wallet.createRandom().address;
    const token = await ethers.deployContract("CairnToken", [1_000n]);
    await token.waitForDeployment();
    expect(await token.symbol()).to.equal("CAIRN");
    expect(await token.balanceOf(deployer.address)).to.equal(1_000n);

    await expect(token.transfer(receiver, 250n)).to.emit(token, "Transfer").withArgs(deployer.address, receiver, 250n);
    expect(await token.balanceOf(receiver)).to.equal(250n);
    expect(await token.balanceOf(deployer.address)).to.equal(750n);
  });

  it("refuses a transfer beyond the balance with OpenZeppelin's custom error", async () => {
    const token = await ethers.deployContract("CairnToken", [10n]);
    await token.waitForDeployment();
    await expect(token.transfer(ethers.Wallet.createRandom().address, 11n)).to.be.revertedWithCustomError(token, "ERC20InsufficientBalance");
  });
});

describe("CairnCollectible (ERC-721)", () => {
  it("mints consecutive ids to their owner", async () => {
    const [deployer] = await ethers.getSigners();
    const holder = ethers.Wallet.createRandom().address;
    const nft = await ethers.deployContract("CairnCollectible", [deployer.address]);
    await nft.waitForDeployment();
    await (await nft.mint(holder)).wait();
    await (await nft.mint(deployer.address)).wait();
    expect(await nft.ownerOf(1n)).to.equal(holder);
    expect(await nft.ownerOf(2n)).to.equal(deployer.address);
    expect(await nft.balanceOf(holder)).to.equal(1n);
  });
});
