// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// The callee of `Traced`: storage, an event, a revert with a reason, a loop that runs out of gas, a self-destruct.
contract TracedCallee {
    uint256 public stored;

    event Stored(uint256 value);

    function store(uint256 value) external returns (uint256) {
        stored = value;
        emit Stored(value);
        return value * 2;
    }

    function fail(uint256 value) external {
        emit Stored(value);
        revert("callee says no");
    }

    function burn() external pure returns (uint256 x) {
        while (true) x++;
    }

    function destroy(address payable to) external {
        selfdestruct(to);
    }
}

/// One transaction that makes every kind of frame the tracers report: CALL, STATICCALL, DELEGATECALL, CREATE and
/// SELFDESTRUCT; a reverted call whose log is dropped, a call that runs out of gas, and a call refused for want of
/// balance before it starts.
contract Traced {
    TracedCallee public callee;

    event Called(uint256 result, address miner);

    constructor() {
        callee = new TracedCallee();
    }

    function run(uint256 value) external returns (uint256 result) {
        result = callee.store(value);
        emit Called(result, block.coinbase);
        try callee.fail(value) {} catch {}
        callee.stored();
        (bool ok, ) = address(callee).call{gas: 5000}(abi.encodeCall(TracedCallee.burn, ()));
        (ok, ) = address(callee).delegatecall(abi.encodeWithSignature("stored()"));
        (ok, ) = address(callee).call{value: 1 ether}("");
        new TracedCallee().destroy(payable(msg.sender));
        emit Called(result + 1, block.coinbase);
    }
}
