import { expect } from "chai";
import { network } from "hardhat";

const { ethers } = await network.getOrCreate();

describe("Guestbook (events and reverts)", () => {
  it("emits an event per entry", async () => {
    const [deployer] = await ethers.getSigners();
    const book = await ethers.deployContract("Guestbook");
    await book.waitForDeployment();
    await expect(book.sign("hello cairn")).to.emit(book, "Signed").withArgs(deployer.address, 1n, "hello cairn");
    expect(await book.entries()).to.equal(1n);
  });

  it("reverts with a reason string and with a custom error", async () => {
    const [owner] = await ethers.getSigners();
    const stranger = new ethers.Wallet(ethers.Wallet.createRandom().privateKey, ethers.provider);
    const book = await ethers.deployContract("Guestbook");
    await book.waitForDeployment();
    await expect(book.sign("")).to.be.revertedWith("empty message");
    const asStranger = book.connect(stranger) as typeof book;
    await expect(asStranger.clear.staticCall()).to.be.revertedWithCustomError(book, "NotOwner").withArgs(stranger.address, owner.address);
  });
});

describe("ModernOpcodes (Cancun: TSTORE/TLOAD, MCOPY)", () => {
  it("runs on the chain and clears transient storage after the transaction", async () => {
    const mo = await ethers.deployContract("ModernOpcodes");
    await mo.waitForDeployment();
    const word = ethers.keccak256(ethers.toUtf8Bytes("cairn"));
    await (await mo.run(21n, word)).wait();
    expect(await mo.doubled()).to.equal(42n);
    expect(await mo.copied()).to.equal(word);
    expect(await mo.transientAfterTx()).to.equal(0n);
  });
});
