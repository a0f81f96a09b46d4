const CairnToken = artifacts.require("CairnToken");
const CairnCollectible = artifacts.require("CairnCollectible");
const Guestbook = artifacts.require("Guestbook");

// web3 1.x (Truffle's) rejects with the node's message, and for eth_call with the revert data in `data`.
async function reverted(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error("expected a revert");
}

contract("CairnToken and CairnCollectible, as migrated", (accounts) => {
  const receiver = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

  it("the deployer holds the supply and can transfer it", async () => {
    const token = await CairnToken.deployed();
    assert.equal(await token.symbol(), "CAIRN");
    const before = BigInt(await token.balanceOf(receiver));
    const tx = await token.transfer(receiver, 250);
    assert.equal(tx.logs[0].event, "Transfer");
    assert.equal(BigInt(await token.balanceOf(receiver)), before + 250n);
  });

  it("the collectible's token 1 belongs to the deployer", async () => {
    const collectible = await CairnCollectible.deployed();
    assert.equal(await collectible.ownerOf(1), accounts[0]);
  });
});

contract("Guestbook", () => {
  it("emits an event, and reverts with a reason and with a custom error", async () => {
    const book = await Guestbook.new();
    const tx = await book.sign("hello cairn");
    assert.equal(tx.logs[0].event, "Signed");
    assert.equal(tx.logs[0].args.message, "hello cairn");
    assert.match((await reverted(book.sign(""))).message, /empty message/);
    // web3 1.x does not decode custom errors: the revert data is NotOwner's selector and its arguments.
    const stranger = web3.eth.accounts.create().address;
    const call = web3.eth.call({ to: book.address, from: stranger, data: book.contract.methods.clear().encodeABI() });
    const err = await reverted(call);
    assert.match(err.message, /execution reverted/);
    const expected = web3.eth.abi.encodeFunctionSignature("NotOwner(address,address)") + web3.eth.abi.encodeParameters(["address", "address"], [stranger, await book.owner()]).slice(2);
    assert.equal(err.data, expected);
  });
});
